"""Imports moto's Step Functions interpreter without importing ``moto.batch`` (and with it ``moto.ec2``).

The interpreter's Batch integration imports one enum, ``moto.batch.utils.JobStatus``. Importing any module of
``moto.batch`` runs the package's ``__init__``, which imports moto's Batch backend, which imports ``moto.ec2``: about
a second of a kit's first stand-up, spent making three boto3 sessions and reading EC2's instance-type data. The kit
executes ``moto/batch/exceptions.py`` and ``moto/batch/utils.py`` themselves, unchanged, while the interpreter is
imported, and takes them out of ``sys.modules`` afterwards. ``moto.batch`` is imported as usual when something first
uses it: a test's own ``mock_aws`` Batch calls and the interpreter's Batch tasks get moto's Batch backend.
``JobStatus`` is a ``str`` enum, so the interpreter's copy compares equal to the statuses moto's backend returns.

If those two files are missing or import anything else (another moto release), the interpreter is imported as moto
imports it. The kit imports it once per process, when the first kit starts, from the thread that starts it: another
thread that imports ``moto.batch`` at that moment may find the two modules still running.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

#: The interpreter module that imports every service integration, ``state_task_service_batch`` among them.
_FACTORY = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_factory"
#: The two ``moto.batch`` modules the Batch integration needs, in the order they import each other.
_BATCH = ("exceptions", "utils")


def import_interpreter() -> None:
    """Import moto's Step Functions interpreter; ``moto.batch`` is left unimported unless it already was."""
    if _FACTORY in sys.modules or "moto.batch" in sys.modules:
        importlib.import_module(_FACTORY)
        return
    try:
        _import_with_batch_modules_alone()
    except ImportError:
        importlib.import_module(_FACTORY)  # moto's Batch modules changed: import them as moto does


def _import_with_batch_modules_alone() -> None:
    import moto

    folder = Path(moto.__file__).parent / "batch"
    specs = [importlib.util.spec_from_file_location(f"moto.batch.{name}", folder / f"{name}.py") for name in _BATCH]
    loaded: list[tuple[str, ModuleType]] = []
    try:
        for spec in specs:
            if spec is None or spec.loader is None or not Path(str(spec.origin)).is_file():
                raise ImportError(f"moto has no {spec.name if spec else 'moto.batch module'} file")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            loaded.append((spec.name, module))
            spec.loader.exec_module(module)
        importlib.import_module(_FACTORY)
    finally:
        package = sys.modules.get("moto.batch")
        for name, module in loaded:
            if package is None:
                sys.modules.pop(name, None)
            else:  # something imported moto.batch meanwhile: its backend uses these very modules, so they stay
                setattr(package, name.rsplit(".", 1)[1], module)
