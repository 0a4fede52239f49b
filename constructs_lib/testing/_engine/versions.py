"""The moto versions the kit is built for: it replaces some of moto's internal functions, which change between
minor releases, so another moto fails here with a clear message rather than deep inside a run."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

SUPPORTED_MOTO = ((5, 2, 5), (5, 3, 0))
"""Lowest supported moto release, and the first one that is not (pyproject.toml's ``testing`` extra)."""


def _release(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(part):
            break  # a pre-release or local suffix ends the release number
    return tuple(parts)


def check_moto_version(installed: str | None = None) -> None:
    """Raise ``ImportError`` naming the installed and the supported moto versions when they differ."""
    low, high = SUPPORTED_MOTO
    wanted = f"moto>={'.'.join(map(str, low))},<{'.'.join(map(str, high))}"
    if installed is None:
        try:
            installed = version("moto")
        except PackageNotFoundError:
            raise ImportError(
                f"constructs_lib.testing needs {wanted}: install the testing extra, "
                "pip install 'constructs-lib[testing]'"
            ) from None
    release = _release(installed)
    if not low <= release < high:
        raise ImportError(
            f"constructs_lib.testing supports {wanted}, but moto {installed} is installed: the kit patches moto's "
            f"internals, which change between minor releases. Install a supported one: pip install '{wanted}'"
        )
