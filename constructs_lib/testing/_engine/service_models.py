"""botocore's service models read once per process while kits run, not once per botocore session.

Each botocore session reads the JSON models of the services it makes clients for (the Lambda API's alone is about
a megabyte), and caches them for itself only. moto gives every ``mock_aws`` start a new boto3 default session, so
each kit read every model again: the stack's services at stand-up, and a state machine's first Lambda task. While a
kit runs, sessions with the same data path share one loader, the object botocore caches models in; a session
made outside a kit gets its own, as botocore makes it. botocore never changes a model it has loaded (one session
hands the same cached objects to all its clients already), so sharing them between sessions changes nothing else.
"""

from __future__ import annotations

import threading
from typing import Any

_loaders: dict[str | None, Any] = {}
_lock = threading.Lock()


def install(patches: Any) -> None:
    """Give every botocore session made while the kit runs the process's loader for its data path (``patches`` is
    the kit's undoable set)."""
    from botocore import session

    create_loader = session.create_loader

    def shared_loader(search_path_string: str | None = None) -> Any:
        with _lock:
            loader = _loaders.get(search_path_string)
            if loader is None:
                loader = _loaders[search_path_string] = create_loader(search_path_string)
            return loader

    patches.replace(session, "create_loader", shared_loader)
