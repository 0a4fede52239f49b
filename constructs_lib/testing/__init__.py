"""Local test kit: run and check what was synthesized, with no AWS account."""

from __future__ import annotations

from constructs_lib.testing.asl import AslValidationError, state_machine_definitions, validate_definition

__all__ = ["AslValidationError", "state_machine_definitions", "validate_definition"]
