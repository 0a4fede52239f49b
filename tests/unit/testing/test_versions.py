"""The kit refuses a moto outside the range it is built for, with a message that says what to install."""

from __future__ import annotations

import pytest

from constructs_lib.testing._engine.versions import check_moto_version


@pytest.mark.parametrize("installed", ["5.2.5", "5.2.6", "5.2.10.post1"])
def test_supported_moto_versions_pass(installed: str) -> None:
    check_moto_version(installed)


@pytest.mark.parametrize("installed", ["5.2.4", "5.2.3", "5.1.22", "5.3.0", "6.0.0", "4.2.14", "5.3.0rc1"])
def test_other_moto_versions_are_refused_with_the_range_to_install(installed: str) -> None:
    with pytest.raises(ImportError, match=rf"supports moto>=5\.2\.5,<5\.3\.0, but moto {installed} is installed"):
        check_moto_version(installed)


def test_the_installed_moto_is_supported() -> None:
    check_moto_version()
