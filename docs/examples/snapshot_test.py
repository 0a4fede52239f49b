import shutil
import tempfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from constructs_lib import DestinedFunction
from constructs_lib.testing import template_snapshot

HANDLERS = Path(__file__).parent / "handlers" / "records"


class ConsumerStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, handlers: Path = HANDLERS, memory: int = 256) -> None:
        super().__init__(scope, construct_id)
        DestinedFunction(
            self,
            "Consumer",
            function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="consumer.handler",
                code=lambda_.Code.from_asset(str(handlers)),
                memory_size=memory,
            ),
        )


def test_the_snapshot_keeps_what_you_wrote_and_masks_what_the_machine_chose() -> None:
    snapshot = template_snapshot(ConsumerStack(cdk.App(), "Consumer"))
    with tempfile.TemporaryDirectory() as other_checkout:
        # The same stack from another folder, with the handler's bytes changed: its asset hash differs, the snapshot
        # does not.
        copy = Path(other_checkout) / "records"
        shutil.copytree(HANDLERS, copy)
        (copy / "consumer.py").write_text((HANDLERS / "consumer.py").read_text() + "\n# reformatted\n")
        assert template_snapshot(ConsumerStack(cdk.App(), "Consumer", handlers=copy)) == snapshot
    # A prop you set is in the snapshot: changing it changes the snapshot.
    assert template_snapshot(ConsumerStack(cdk.App(), "Consumer", memory=512)) != snapshot
