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

    def first(self, key: Any) -> bool:
        """True for the first caller with this key in the sync, False for every later one."""
        firsts: list = []
        self.once(key, lambda: firsts.append(True))
        return bool(firsts)

    def get(self, key: Any, default: Any = None) -> Any:
        with self._guard:
            return self._values.get(key, default)


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


def note_refused_stream(config: Mapping[str, Any], stream_name: str, reason: str) -> bool:
    """Notes that the API refused to let this sync read `stream_name` (403 for the account's plan or role); True
    the first time in the sync, so that the refusal is logged once per stream."""
    store = sync_store(config)
    store.once(("refused", stream_name), lambda: reason)
    return store.first(("refusal logged", stream_name))


def refusal_of(config: Mapping[str, Any], stream_name: str) -> Any:
    """Why the API refused `stream_name` in this sync, or None."""
    return sync_store(config).get(("refused", stream_name))
