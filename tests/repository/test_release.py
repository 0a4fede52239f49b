"""One version, named the same everywhere: ``constructs_lib.__version__`` (the source), pyproject.toml (reads it),
CHANGELOG.md (Keep a Changelog: the latest release names it). The built wheel's metadata is checked in
tests/repository/test_installed_wheel.py."""

from __future__ import annotations

import datetime
import re
import tomllib

import constructs_lib
from tests.conftest import REPO_ROOT

CHANGELOG = REPO_ROOT / "CHANGELOG.md"
RELEASE = re.compile(r"^## \[(?P<version>\d+\.\d+\.\d+)\] - (?P<date>\d{4}-\d{2}-\d{2})$")
CHANGE_TYPES = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def releases() -> list[tuple[str, datetime.date]]:
    found = []
    for line in CHANGELOG.read_text().splitlines():
        match = RELEASE.match(line)
        if match:
            found.append((match["version"], datetime.date.fromisoformat(match["date"])))
    return found


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_version_is_semantic() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", constructs_lib.__version__), constructs_lib.__version__


def test_pyproject_reads_the_version_from_the_package() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"], "the version has one source: constructs_lib.__version__"
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["hatch"]["version"] == {"path": "constructs_lib/__init__.py"}
    source = (REPO_ROOT / "constructs_lib" / "__init__.py").read_text()
    # hatchling's regex source: exactly one __version__ = "..." line, the one Python sees.
    assert re.findall(r'^__version__ = "([^"]+)"$', source, re.MULTILINE) == [constructs_lib.__version__]


def test_changelog_latest_release_is_the_package_version() -> None:
    found = releases()
    assert found, "CHANGELOG.md has no '## [x.y.z] - YYYY-MM-DD' release"
    assert found[0][0] == constructs_lib.__version__


def test_changelog_follows_keep_a_changelog() -> None:
    lines = CHANGELOG.read_text().splitlines()
    assert lines[0] == "# Changelog"
    level_two = [line for line in lines if line.startswith("## ")]
    assert level_two[0] == "## [Unreleased]", "the first section collects what is not released yet"
    assert all(RELEASE.match(line) for line in level_two[1:]), [x for x in level_two[1:] if not RELEASE.match(x)]
    found = releases()
    assert [v for v, _ in found] == sorted({v for v, _ in found}, key=version_key, reverse=True), "newest first, once"
    dates = [d for _, d in found]
    assert dates == sorted(dates, reverse=True)
    types = {line[4:] for line in lines if line.startswith("### ")}
    assert types <= CHANGE_TYPES, types - CHANGE_TYPES
    latest = CHANGELOG.read_text().split(f"## [{found[0][0]}]", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^- ", latest, re.MULTILINE), "the latest release lists its changes"
