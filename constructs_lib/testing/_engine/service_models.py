"""botocore's service models read once per process while kits run, not once per botocore session.

Each botocore session reads the JSON models of the services it makes clients for (the Lambda API's alone is about
a megabyte), and caches them for itself only. moto gives every ``mock_aws`` start a new boto3 default session, so
each kit read every model again: the stack's services at stand-up, and a state machine's first Lambda task. While a
kit runs, sessions with the same data path share one loader, the object botocore caches models in; a session whose
loader was made outside a kit has its own, as botocore makes it. What botocore changes in a model it loaded is the
same whenever it is done (the retry configuration's references resolved, the endpoint rules' partition named), and
was already shared by every client of one session. boto3 adds its own data folder to a session's loader each time:
the shared loader's search path takes it once.
"""

from __future__ import annotations

import threading
from typing import Any

_loaders: dict[str | None, Any] = {}
_lock = threading.RLock()  # re-entrant: a wrapper of someone else's between two of ours must not deadlock


class _SearchPaths(list[str]):
    """A loader's search path that keeps each folder once (boto3 appends its own for every session)."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def install(patches: Any) -> None:
    """Give every botocore session made while the kit runs the process's loader for its data path (``patches`` is
    the kit's undoable set)."""
    from botocore import session

    create_loader = session.create_loader
    if getattr(create_loader, "shares_models", False):
        return  # already shared (a test run shares them for its whole length): a second wrapper would add nothing

    def shared_loader(search_path_string: str | None = None) -> Any:
        with _lock:
            loader = _loaders.get(search_path_string)
            if loader is None:
                loader = create_loader(search_path_string)
                loader._search_paths = _SearchPaths(loader.search_paths)
                _loaders[search_path_string] = loader
            return loader

    shared_loader.shares_models = True  # type: ignore[attr-defined]
    patches.replace(session, "create_loader", shared_loader)
