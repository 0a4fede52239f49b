"""moto's Step Functions interpreter imported without ``moto.batch`` and ``moto.ec2``, and moto's Batch modules
exactly as moto's own import makes them afterwards. Each case runs in a new interpreter: what is imported is the
point, and this process has imported moto long since."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

_BATCH_TASK = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch"


def run(code: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=REPO,
    )
    assert completed.returncode == 0, completed.stderr


def test_the_interpreter_is_imported_without_moto_batch_and_ec2_which_import_as_usual_afterwards() -> None:
    run(
        f"""
        import sys
        from constructs_lib.testing._engine.interpreter_import import import_interpreter

        import_interpreter()
        assert "{_BATCH_TASK}" in sys.modules
        packages = ("moto.batch", "moto.ec2")
        left = sorted(name for name in sys.modules if name in packages or name.startswith(("moto.batch.", "moto.ec2.")))
        assert left == [], left

        import moto.batch.utils
        from moto.batch.exceptions import ValidationError
        import boto3
        from moto import mock_aws

        # One copy of each module, reachable as attributes too, as a plain import leaves them.
        assert moto.batch.utils is sys.modules["moto.batch.utils"]
        assert moto.batch.exceptions.ValidationError is ValidationError
        assert sys.modules["moto.batch.models"].ValidationError is ValidationError
        # The interpreter's statuses compare as moto's backend's do: a str enum, so by value.
        interpreter = sys.modules["{_BATCH_TASK}"].JobStatus
        assert interpreter.SUCCEEDED == moto.batch.utils.JobStatus.SUCCEEDED == "SUCCEEDED"
        assert "FAILED" in sys.modules["{_BATCH_TASK}"]._BATCH_JOB_TERMINATION_STATUS_SET
        with mock_aws():  # a test's own Batch calls get moto's Batch backend
            assert boto3.client("batch", region_name="us-east-1").describe_job_queues()["jobQueues"] == []
        """
    )


def test_a_moto_batch_imported_before_is_the_one_the_interpreter_uses() -> None:
    run(
        f"""
        import sys
        import moto.batch.utils
        from constructs_lib.testing._engine.interpreter_import import import_interpreter

        import_interpreter()
        assert sys.modules["{_BATCH_TASK}"].JobStatus is moto.batch.utils.JobStatus
        """
    )


def test_a_moto_batch_imported_while_the_interpreter_is_imported_keeps_the_modules_it_was_given() -> None:
    run(
        f"""
        import importlib
        import sys
        import types
        from constructs_lib.testing._engine import interpreter_import

        def import_module(name):  # another import of moto.batch, between the two modules and the interpreter
            if name == interpreter_import._FACTORY:
                import moto.batch
            return importlib.import_module(name)

        interpreter_import.importlib = types.SimpleNamespace(import_module=import_module, util=importlib.util)
        interpreter_import.import_interpreter()
        import moto.batch.utils
        from moto.batch.exceptions import ValidationError

        assert moto.batch.utils is sys.modules["moto.batch.utils"]
        assert moto.batch.exceptions.ValidationError is ValidationError
        assert sys.modules["moto.batch.models"].ValidationError is ValidationError
        assert sys.modules["{_BATCH_TASK}"].JobStatus is moto.batch.utils.JobStatus
        """
    )


def test_batch_modules_that_cannot_run_alone_are_imported_as_moto_imports_them() -> None:
    run(
        f"""
        import sys
        from constructs_lib.testing._engine import interpreter_import

        interpreter_import._BATCH = ("exceptions", "not_in_moto")  # as if a moto release moved them
        interpreter_import.import_interpreter()
        import moto.batch.utils

        assert sys.modules["{_BATCH_TASK}"].JobStatus is moto.batch.utils.JobStatus
        assert sys.modules["moto.batch.models"].ValidationError is sys.modules["moto.batch.exceptions"].ValidationError
        """
    )
