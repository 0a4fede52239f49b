"""The power-tuning example: a sample function and a tuner allowed to tune it, and nothing else.

Start a tuning (``lambdaARN`` is the function to tune, ``powerValues`` the memory sizes to try, ``num`` the
invocations per size; the output names the best memory size):

    aws stepfunctions start-execution --state-machine-arn <TunerStateMachineArn> \\
        --input '{"lambdaARN": "<SampleFunctionArn>", "powerValues": [128, 256, 512, 1024], "num": 10}'
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib.defaults import secure_function
from constructs_lib.workloads.power_tuning.power_tuning import PowerTuning
from stacks._alerts import alarm_topic
from stacks._code import example_code

RUNTIME = lambda_.Runtime.PYTHON_3_14


class PowerTuningStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        work_ms: int = 300,
        allow_architecture_changes: bool = False,
        **kwargs: Any,
    ) -> None:
        """:param work_ms: the sample's simulated work at 128 MB (it takes work_ms x sqrt(128 / memory)).
        :param allow_architecture_changes: let the tuner compare x86_64 and arm64 in one run (an input's
            ``architectures``), switching the sample's architecture and back."""
        super().__init__(scope, construct_id, **kwargs)
        self.alarm_topic = alarm_topic(self)
        self.sample, _ = secure_function(
            self,
            "Sample",
            function_props=lambda_.FunctionProps(
                runtime=RUNTIME,
                handler="sample.handler",
                code=example_code("power_tuning_sample"),
                memory_size=128,
                timeout=Duration.seconds(10),
                description="Power tuning sample: its work runs faster with more memory, less than in proportion",
                environment={"WORK_MS": str(work_ms)},
            ),
        )
        self.tuner = PowerTuning(
            self, "Tuner", allowed_functions=[self.sample], allow_architecture_changes=allow_architecture_changes
        )
        CfnOutput(self, "SampleFunctionArn", value=self.sample.function_arn)
        CfnOutput(self, "TunerStateMachineArn", value=self.tuner.state_machine.state_machine_arn)
