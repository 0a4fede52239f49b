from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from constructs_lib import (
    Choice,
    ForEach,
    FunctionWorkflow,
    Invoke,
    Parallel,
    QueueRoute,
    RetryRule,
    ServiceTask,
)


class OrdersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        def existing(name: str) -> lambda_.IFunction:
            arn = f"arn:aws:lambda:eu-west-1:123456789012:function:orders-{name}"
            return lambda_.Function.from_function_arn(self, name, arn)

        classify, one, reserve, charge, item = (existing(n) for n in ("classify", "one", "reserve", "charge", "item"))

        audit = sqs.Queue.from_queue_arn(self, "Audit", "arn:aws:sqs:eu-west-1:123456789012:orders-audit")

        def audit_task(scope: Construct, name: str) -> sfn.TaskStateBase:
            return tasks.SqsSendMessage(
                scope,
                name,
                queue=audit,
                message_body=sfn.TaskInput.from_json_path_at("$.orderId"),
                result_path=sfn.JsonPath.DISCARD,  # keep the state as it was
            )

        pending = RetryRule(errors=["OrderPendingError"], interval=Duration.seconds(2), backoff_rate=2.0)
        FunctionWorkflow(
            self,
            "Orders",
            steps=[
                Invoke("Classify", classify, retries=[pending]),
                Choice(
                    "Route",
                    branches=[
                        (sfn.Condition.number_equals("$.foo", 1), [Invoke("One", one)]),
                        (
                            sfn.Condition.number_equals("$.foo", 2),
                            [
                                Parallel(
                                    "Two",
                                    branches=[[Invoke("Reserve", reserve)], [Invoke("Charge", charge)]],
                                )
                            ],
                        ),
                    ],
                ),
                ForEach("EachItem", items_path="$.items", steps=[Invoke("Item", item)], max_concurrency=10),
                ServiceTask("Audit", audit_task),
            ],
            on_failure=QueueRoute(),
        )
