from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import BatchManifest, S3BatchLambdaJob

HANDLER_DIR = Path(__file__).parent / "handlers" / "object_size"


class ObjectSizesStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        photos = s3.Bucket.from_bucket_arn(self, "Photos", "arn:aws:s3:::example-photos")
        # Every object under 2026/, listed by S3's manifest generator; a report of every task in a new bucket.
        S3BatchLambdaJob(
            self,
            "ObjectSizes",
            manifest=BatchManifest.from_prefix(photos, "2026/"),
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="object_size.process",  # the per-object function, not a Lambda handler
                code=lambda_.Code.from_asset(str(HANDLER_DIR)),
                timeout=Duration.minutes(1),
            ),
        )
