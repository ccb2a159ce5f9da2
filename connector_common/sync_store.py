"""What the components of one sync share (a parent listing read once for several streams, a value fetched once per
parent), kept for that sync only.

The CDK builds every component of a source with the same config mapping, the sync's own, and hands it nothing else in
common. So the store belongs to that config object: `sync_store(config)` finds it by the object's identity (the store
keeps the config alive, so the identity cannot be reused meanwhile). A second source built in the same process with
another config, as the Connector Builder does for each test read, starts with an empty store. Only the
`MAX_STORES` most recently used stores are kept, so that a long-lived process does not keep every config it saw: a
sync whose store was dropped meanwhile only reads a shared listing again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Mapping


class SyncStore:
    """Values computed once per sync, by key. The first caller of `once` computes while the others wait for it; a
    computation that raises stores nothing, so the next caller tries again."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self._guard = threading.Lock()
        self._locks: dict[Any, threading.Lock] = {}
        self._values: dict[Any, Any] = {}

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._guard:
            if key in self._values:
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._guard:
                self._values[key] = value
            return value


MAX_STORES = 8
_STORES: "OrderedDict[int, SyncStore]" = OrderedDict()
_STORES_GUARD = threading.Lock()


def sync_store(config: Mapping[str, Any]) -> SyncStore:
    """The store of the sync whose config this is."""
    with _STORES_GUARD:
        store = _STORES.get(id(config))
        if store is None or store.config is not config:
            store = _STORES[id(config)] = SyncStore(config)
        _STORES.move_to_end(id(config))
        while len(_STORES) > MAX_STORES:
            _STORES.popitem(last=False)
        return store
