"""The construct path of each resource a kit names things by: read from the cloud assembly's ``aws:cdk:logicalId``
metadata, the same as a walk of the constructs gives, and the walk when that metadata is turned off."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

from constructs_lib.testing import SynthesizedStack
from constructs_lib.testing._engine import template
from tests.conftest import cdk_context, echo_function


def build(outdir: Path, **context: object) -> cdk.Stack:
    app = cdk.App(context={**cdk_context(), **context}, outdir=str(outdir), analytics_reporting=False)
    stage = cdk.Stage(app, "Staged")  # a stack inside a stage: its assembly and paths are nested
    stack = cdk.Stack(stage, "Paths", env=cdk.Environment(account="123456789012", region="us-east-1"))
    echo_function(stack, "Echo")
    queue = sqs.Queue(stack, "Orders", enforce_ssl=True)
    queue.node.default_child.override_logical_id("RenamedQueue")  # type: ignore[union-attr]
    return stack


def test_paths_from_the_assembly_metadata_are_those_a_walk_of_the_constructs_finds(tmp_path: Path) -> None:
    stack = build(tmp_path / "cdk.out")
    synthesized = SynthesizedStack.from_stack(stack)
    assert synthesized.paths == template._construct_paths(stack)
    assert synthesized.paths["RenamedQueue"] == "Orders"
    assert set(synthesized.paths) == set(synthesized.template["Resources"])
    directory = Path(cdk.Stage.of(stack).synth().directory)  # type: ignore[union-attr]
    assert template._logical_id_paths(directory, stack.artifact_id, synthesized.template, stack.node.path) is not None


def test_without_the_logical_id_metadata_the_constructs_are_walked(tmp_path: Path) -> None:
    stack = build(tmp_path / "cdk.out", **{"aws:cdk:disable-logicalId-metadata": True})
    synthesized = SynthesizedStack.from_stack(stack)
    directory = Path(cdk.Stage.of(stack).synth().directory)  # type: ignore[union-attr]
    assert template._logical_id_paths(directory, stack.artifact_id, synthesized.template, stack.node.path) is None
    assert synthesized.paths == template._construct_paths(stack)
    assert synthesized.paths["RenamedQueue"] == "Orders"


def test_a_nested_stacks_logical_ids_repeating_the_parents_are_walked(tmp_path: Path) -> None:
    """A nested stack's elements are in its parent's metadata, with logical ids of its own template: a queue
    ``Inner/Orders`` has the same logical id as the parent's ``Orders``."""
    stack = build(tmp_path / "cdk.out")
    inner = cdk.NestedStack(stack, "Inner")
    sqs.Queue(inner, "Orders", enforce_ssl=True).node.default_child.override_logical_id(  # type: ignore[union-attr]
        "RenamedQueue"
    )
    synthesized = SynthesizedStack.from_stack(stack)
    directory = Path(cdk.Stage.of(stack).synth().directory)  # type: ignore[union-attr]
    assert template._logical_id_paths(directory, stack.artifact_id, synthesized.template, stack.node.path) is None
    assert synthesized.paths == template._construct_paths(stack)
    assert synthesized.paths["RenamedQueue"] == "Orders"
