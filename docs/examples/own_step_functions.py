import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib import (
    FunctionWorkflow,
    Invoke,
    QueueRoute,
    acknowledge_wildcard_resources,
    secure_bucket,
    secure_function,
    secure_topic,
)

CODE = "def handler(event, context):\n    return event\n"


class OrdersStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        def step_function(name: str) -> lambda_.Function:
            # Tracing, a log group of its own (one month) and a role that may write to that log group only.
            function, _ = secure_function(
                self,
                name,
                function_props=lambda_.FunctionProps(
                    runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler", code=lambda_.Code.from_inline(CODE)
                ),
            )
            return function

        validate, charge, ship = (step_function(name) for name in ("Validate", "Charge", "Ship"))
        FunctionWorkflow(
            self,
            "Orders",
            steps=[Invoke("Validate", validate), Invoke("Charge", charge), Invoke("Ship", ship)],
            on_failure=QueueRoute(),
        )

        # Ship reads any label under labels/ of one bucket: the keys are not known in advance. The grant is yours,
        # so is its cdk-nag finding: acknowledged for that one resource on Ship's role, nothing else of the role.
        labels = secure_bucket(self, "Labels")
        iam.Grant.add_to_principal(
            grantee=ship, actions=["s3:GetObject"], resource_arns=[labels.arn_for_objects("labels/*")]
        )
        acknowledge_wildcard_resources(
            ship,
            resources=[labels.arn_for_objects("labels/*")],
            reason="Ship reads the label of any order under labels/",
        )

        # cdk-nag 3's own form, for any finding: Validations.of(the construct).acknowledge(Acknowledgment(...)),
        # the id as cdk-nag prints it ("<pack>::<rule>[<finding>]"). (For a DLQ, secure_queue(...,
        # dead_letter_for="...") does this for you.)
        shipped = secure_topic(self, "Shipped")  # a customer managed key, rotated; TLS only
        subscription_dlq = sqs.Queue(self, "MailerDlq", enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED)
        cdk.Validations.of(subscription_dlq).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason="This queue is the dead-letter queue of the mailer's subscription; it needs none of its own.",
            )
        )
        mailer = step_function("Mailer")
        shipped.add_subscription(subscriptions.LambdaSubscription(mailer, dead_letter_queue=subscription_dlq))
