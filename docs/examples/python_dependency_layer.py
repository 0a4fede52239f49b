from pathlib import Path

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import DestinedFunction, PythonDependencyLayer

SHARED_CODE = Path(__file__).parent / "layers" / "shared"  # shared/acme_common/ -> import acme_common

HANDLER = """
from acme_common import greeting

def handler(event, context):
    return greeting(event["name"])
"""


class LayerStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Built at synth, on this machine, never in Docker. With requirements_file=, pip installs Lambda's wheels too.
        shared = PythonDependencyLayer(
            self,
            "Shared",
            code_dir=SHARED_CODE,
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
        )
        DestinedFunction(
            self,
            "Greeter",
            function_props=lambda_.FunctionProps(
                runtime=shared.runtime,
                architecture=shared.architecture,
                layers=[shared.layer],
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER),
            ),
        )
