"""The Slack error-reporting example: three ways a failure reaches Slack.

1. Validate: a plain function wrapped by SlackErrorReporter, with no code change; an uncaught error is posted, then
   the invocation still fails with the same error.
2. Charge: a DestinedFunction whose failure records (after Lambda's retries) go to the Slack notifier.
3. Ship: a FunctionWorkflow whose FAILED / TIMED_OUT / ABORTED executions go to the Slack notifier.

The webhook URL is in a Secrets Manager secret. By default the stack makes one holding a random placeholder, so no
URL is ever in the template: after deploying, put the URL into it with
``aws secretsmanager put-secret-value --secret-id <SlackWebhookSecretArn output> --secret-string <url>``.
Or give the name of an existing secret as context: ``cdk deploy -c slack_webhook_secret_name=slack/webhook``.

``query_language`` picks the Shipping workflow's states' language (JSONPath by default, or JSONata).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from constructs_lib import acknowledge_unrotated_secret
from constructs_lib.defaults import secure_function
from constructs_lib.engines.destined_function import DestinedFunction
from constructs_lib.engines.function_workflow import FunctionWorkflow
from constructs_lib.workloads.slack.slack_error_reporter import (
    SlackErrorReporter,
    SlackWebhook,
    looks_like_webhook_url,
)
from constructs_lib.workloads.slack.slack_notifier import FAILED_STATUSES, SlackNotifier
from stacks._alerts import alarm_topic
from stacks._code import example_code

RUNTIME = lambda_.Runtime.PYTHON_3_14
SECRET_NAME_CONTEXT = "slack_webhook_secret_name"


class SlackErrorReportingStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        query_language: sfn.QueryLanguage = sfn.QueryLanguage.JSON_PATH,
        **kwargs: Any,
    ) -> None:
        """:param query_language: the Shipping workflow's query language, JSONPath (default) or JSONata."""
        super().__init__(scope, construct_id, **kwargs)
        code = example_code("slack_example")
        self.alarm_topic = alarm_topic(self)

        def function_props(handler: str, description: str) -> lambda_.FunctionProps:
            return lambda_.FunctionProps(
                runtime=RUNTIME,
                handler=f"orders.{handler}",
                code=code,
                timeout=Duration.seconds(10),
                description=description,
            )

        self.webhook_secret = self._webhook_secret()
        self.reporter = SlackErrorReporter(self, "SlackReporter", webhook=SlackWebhook.from_secret(self.webhook_secret))
        self.notifier = SlackNotifier(self, "SlackNotifier", reporter=self.reporter)

        # 1. No code change: orders.validate knows nothing of Slack.
        self.validate_function, _ = secure_function(
            self, "Validate", function_props=function_props("validate", "Validates orders (errors go to Slack)")
        )
        self.reporter.wrap(self.validate_function)

        # 2. Lambda Destinations: failure records (after 2 retries) go to the notifier.
        self.charge = DestinedFunction(
            self,
            "Charge",
            function_props=function_props("charge", "Charges orders (failures go to Slack through Destinations)"),
            on_failure=self.notifier.route,
        )

        # 3. Step Functions: failed, timed-out and aborted executions go to the notifier.
        ship, _ = secure_function(self, "Ship", function_props=function_props("ship", "Ships orders"))
        self.workflow = FunctionWorkflow(
            self, "Shipping", function=ship, timeout=Duration.minutes(5), query_language=query_language
        )
        self.failure_notifications = self.workflow.notify_on(
            "SlackOnFailure", statuses=FAILED_STATUSES, route=self.notifier.route
        )

        CfnOutput(
            self,
            "SlackWebhookSecretArn",
            value=self.webhook_secret.secret_arn,
            description="Put the Slack incoming-webhook URL into this secret (it holds a placeholder until then)",
        )

    def _webhook_secret(self) -> secretsmanager.ISecret:
        name = self.node.try_get_context(SECRET_NAME_CONTEXT)
        if looks_like_webhook_url(name):
            # never repeated in the message: it is the credential itself
            raise ValueError(
                f"context {SECRET_NAME_CONTEXT} is the name of the secret that holds the Slack webhook URL, and this "
                "value looks like the URL (or a Slack token) itself: it would be written into the template. Store it "
                "with aws secretsmanager create-secret --name slack/webhook --secret-string <url>, then deploy with "
                f"-c {SECRET_NAME_CONTEXT}=slack/webhook"
            )
        if isinstance(name, str) and name:
            return secretsmanager.Secret.from_secret_name_v2(self, "SlackWebhookSecret", name)
        secret = secretsmanager.Secret(
            self,
            "SlackWebhookSecret",
            description="Slack incoming-webhook URL of the error reporter: replace the generated placeholder",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=32),
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge_unrotated_secret(
            secret,
            reason="A Slack incoming-webhook URL is issued by Slack and cannot be rotated by a Lambda function; "
            "replace it in Slack and in this secret together when it must change.",
        )
        return secret
