"""botocore's service models shared by the sessions made while a kit runs, and only by those."""

from __future__ import annotations

import boto3.session
import botocore.session
import pytest

from constructs_lib.testing._engine import service_models
from constructs_lib.testing._engine.moto_hooks import _Patches
from tests.conftest import SharedServiceModels


def loader(session: botocore.session.Session) -> object:
    return session.get_component("data_loader")


def test_sessions_made_while_the_kit_runs_share_one_loader_per_data_path_and_others_get_their_own(
    botocore_models_read_once: SharedServiceModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Outside a kit, botocore's own loaders: not the test run's sharing (tests/conftest.py), and none shared yet.
    monkeypatch.setattr(botocore.session, "create_loader", botocore_models_read_once.create_loader)
    monkeypatch.setattr(service_models, "_loaders", {})
    before = botocore.session.get_session()
    patches = _Patches()
    service_models.install(patches)
    try:
        first, second = botocore.session.get_session(), botocore.session.get_session()
        elsewhere = botocore.session.get_session()
        elsewhere.set_config_variable("data_path", "/nonexistent/models")
        shared = loader(first)
        assert loader(second) is shared
        # A model is read once: the second session is handed the first one's.
        assert second.get_service_data("sqs") is first.get_service_data("sqs")
        assert loader(elsewhere) is not shared
        # boto3 adds its data folder to a session's loader: once to the shared one, however many sessions.
        for _ in range(3):
            boto3.session.Session(botocore_session=botocore.session.get_session())
        paths = shared.search_paths  # type: ignore[attr-defined]
        assert len(paths) == len(set(paths))
        assert "/nonexistent/models" in loader(elsewhere).search_paths  # type: ignore[attr-defined]
    finally:
        patches.undo()
    after = botocore.session.get_session()
    assert loader(after) is not shared
    assert loader(before) is not shared


def test_sharing_already_in_place_is_not_wrapped_again(
    botocore_models_read_once: SharedServiceModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kit in a process that already shares the models (a test run, or a kit inside a kit's callback) keeps the
    sharing as it is: a second wrapper would take the same lock inside the first and wait for ever."""
    monkeypatch.setattr(botocore.session, "create_loader", botocore_models_read_once.create_loader)
    monkeypatch.setattr(service_models, "_loaders", {})
    patches = _Patches()
    service_models.install(patches)
    try:
        sharing = botocore.session.create_loader
        service_models.install(patches)
        assert botocore.session.create_loader is sharing
        assert loader(botocore.session.get_session()) is loader(botocore.session.get_session())
    finally:
        patches.undo()
    assert botocore.session.create_loader is botocore_models_read_once.create_loader
