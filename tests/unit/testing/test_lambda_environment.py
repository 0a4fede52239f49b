"""The process environment a handler's variables start from: a fresh copy for each invocation, as the process's
environment is at that moment."""

from __future__ import annotations

import os

import pytest

from constructs_lib.testing._engine.lambda_runtime import _environ_copy


def test_each_copy_is_the_process_environment_now_and_a_copy_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _environ_copy(os.environ)
    assert first == dict(os.environ)
    first["KIT_TEST_VARIABLE"] = "changed by a handler"
    assert "KIT_TEST_VARIABLE" not in _environ_copy(os.environ)

    monkeypatch.setenv("KIT_TEST_VARIABLE", "set by the test")
    assert _environ_copy(os.environ)["KIT_TEST_VARIABLE"] == "set by the test"
    monkeypatch.setenv("KIT_TEST_VARIABLE", "set again")
    assert _environ_copy(os.environ)["KIT_TEST_VARIABLE"] == "set again"
    monkeypatch.delenv("KIT_TEST_VARIABLE")
    assert _environ_copy(os.environ) == dict(os.environ)


def test_any_other_mapping_is_copied_as_dict_copies_it() -> None:
    base = {"A": "1"}
    copied = _environ_copy(base)
    assert copied == base
    assert copied is not base
    if hasattr(os, "environb"):  # bytes, sharing os.environ's data: never handed the str copy
        assert _environ_copy(os.environb) == dict(os.environb)  # type: ignore[arg-type, comparison-overlap]
