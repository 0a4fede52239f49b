from aws_cdk import Stack
from constructs import Construct

from constructs_lib import DefectDetectionPipeline, DefectEndpoint


class DefectsStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Images uploaded to a new bucket, scored by an endpoint you already run; defects to a new topic.
        DefectDetectionPipeline(self, "Pipeline", endpoint=DefectEndpoint.from_endpoint_name("pcb-defect-classifier"))
