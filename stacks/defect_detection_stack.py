"""The defect-detection example: printed circuit board images classified by a SageMaker endpoint.

S3 (images) --EventBridge--> workflow: InspectImage -> RecordResult (DynamoDB) -> Decide:
    DEFECTIVE -> SNS alert (+ quarantine tag); REVIEW -> review queue; DEFECT_FREE -> recorded only
Any failure -> the execution record on an encrypted queue; the workflow alarms on Failed and TimedOut.

The endpoint is an existing one, named by the context value ``defectEndpointName``
(``cdk synth -c defectEndpointName=my-endpoint``); the default is ``pcb-defect-classifier``. ``query_language`` picks
the workflow's states' language (JSONPath by default, or JSONata).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib import DefectDetectionPipeline, DefectEndpoint, Ingestion
from stacks._alerts import alarm_topic, to_deployer

DEFAULT_ENDPOINT_NAME = "pcb-defect-classifier"


class DefectDetectionStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        query_language: sfn.QueryLanguage = sfn.QueryLanguage.JSON_PATH,
        **kwargs: Any,
    ) -> None:
        """:param query_language: the pipeline workflow's query language, JSONPath (default) or JSONata."""
        super().__init__(scope, construct_id, **kwargs)
        endpoint_name = self.node.try_get_context("defectEndpointName") or DEFAULT_ENDPOINT_NAME
        self.alarm_topic = alarm_topic(self)
        self.pipeline = DefectDetectionPipeline(
            self,
            "Pipeline",
            endpoint=DefectEndpoint.from_endpoint_name(str(endpoint_name)),
            class_names=["defect_free", "defective"],
            defect_class="defective",
            defect_threshold=0.5,
            confidence_floor=0.6,
            ingestion=Ingestion.EVENTBRIDGE,
            key_prefix="incoming/",
            quarantine=True,
            query_language=query_language,
        )
        assert self.pipeline.alert_route.topic is not None
        to_deployer(self, self.pipeline.alert_route.topic, "DefectAlertsTopic", "Every defective board")
