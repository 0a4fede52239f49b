"""The kit says when the interpreter that runs it is older than a function's Python runtime."""

from __future__ import annotations

import warnings

import pytest

from constructs_lib.testing import RuntimeStandInWarning
from constructs_lib.testing._engine.lambda_runtime import warn_if_cannot_stand_in


def test_a_runtime_newer_than_the_interpreter_is_flagged_with_what_to_do() -> None:
    with pytest.warns(RuntimeStandInWarning) as caught:
        warning = warn_if_cannot_stand_in("python3.14", local=(3, 11))
    assert warning is not None
    assert str(caught[0].message) == (
        "functions on python3.14 run on Python 3.11 in the local kit: a handler that needs Python 3.14 fails locally "
        "and works on AWS; run the tests with Python 3.14 or newer to rule that out"
    )


@pytest.mark.parametrize(
    ("runtime", "local"),
    [("python3.11", (3, 11)), ("python3.12", (3, 13)), ("nodejs22.x", (3, 11)), ("python3.x", (3, 11))],
)
def test_the_same_or_an_older_runtime_and_other_languages_are_not(runtime: str, local: tuple[int, int]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_cannot_stand_in(runtime, local=local) is None
