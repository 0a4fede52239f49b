"""S3 Batch Operations sentiment example: Amazon Comprehend over the text objects already in a bucket.

Documents bucket (encrypted, TLS only, versioned, access-logged)
  -> S3 Batch Operations job (manifest: every object under ``reviews/``, or a list of keys)
  -> the sentiment function (per-object function + the library's contract layer): DetectSentiment, tag the object
  -> completion report (all tasks) in the job bucket.

Context: ``sentimentPrefix`` (default ``reviews/``), ``sentimentLanguage`` (default ``en``),
``createSentimentJob`` (default false: start the job with ``aws s3control create-job --cli-input-json``, its input
the stack output named ``SentimentJobCreateJobInput...``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import allow_unscoped_actions
from constructs_lib.defaults import secure_bucket
from constructs_lib.workloads.s3_batch.s3_batch_lambda_job import BatchManifest, S3BatchLambdaJob
from stacks._code import example_code

COMPREHEND_LANGUAGES = frozenset({"ar", "de", "en", "es", "fr", "hi", "it", "ja", "ko", "pt", "zh", "zh-TW"})
"""The languages DetectSentiment supports (the function checks them too, per job argument)."""


class S3BatchSentimentStack(Stack):
    """Sentiment of existing text objects with S3 Batch Operations, Lambda and Amazon Comprehend."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        manifest_keys: Sequence[str | tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        """
        :param manifest_keys: run over exactly these keys (a CSV manifest written at deploy time).
            :default: - every object under the ``sentimentPrefix`` context value (the manifest generator).
        """
        super().__init__(scope, construct_id, **kwargs)
        prefix = str(self.node.try_get_context("sentimentPrefix") or "reviews/")
        language = str(self.node.try_get_context("sentimentLanguage") or "en")
        if language not in COMPREHEND_LANGUAGES:
            raise ValueError(
                f"context sentimentLanguage {language!r} is not a language DetectSentiment supports; use one of "
                f"{', '.join(sorted(COMPREHEND_LANGUAGES))} (cdk synth -c sentimentLanguage=de)"
            )
        create_job = str(self.node.try_get_context("createSentimentJob") or "false").lower() == "true"

        self.documents = secure_bucket(self, "Documents")
        manifest = (
            BatchManifest.from_keys(self.documents, manifest_keys)
            if manifest_keys is not None
            else BatchManifest.from_prefix(self.documents, prefix)
        )
        self.job = S3BatchLambdaJob(
            self,
            "SentimentJob",
            manifest=manifest,
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="sentiment.analyse",
                code=example_code("s3_batch_sentiment"),
                memory_size=256,
                timeout=Duration.seconds(30),
                description="Detects the sentiment of one text object for S3 Batch Operations",
                environment={"LANGUAGE_CODE": language, "WRITE_TAGS": "true"},
            ),
            user_arguments={"languageCode": language},
            create_job=create_job,
            description="Sentiment of the documents with Amazon Comprehend",
        )
        self.job.grant_write_tags(self.job.function)
        allow_unscoped_actions(
            self.job.function,
            actions=["comprehend:DetectSentiment"],
            reason="comprehend:DetectSentiment has no resource-level permissions (its Service Authorization "
            "Reference entry lists no resource type). This policy holds that action only.",
        )
        CfnOutput(self, "DocumentsBucketName", value=self.documents.bucket_name)
        CfnOutput(self, "ReportBucketName", value=self.job.report_bucket.bucket_name)
