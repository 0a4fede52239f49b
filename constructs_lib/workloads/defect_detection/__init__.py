"""DefectDetectionPipeline: images scored by a SageMaker endpoint, results acted on by a workflow."""
