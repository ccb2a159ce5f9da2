"""A response's JSON body, parsed once and kept on the response: the error handler, the decoder or extractor and the
paginator all read it."""

from typing import Any, Callable, Iterable

import requests

from connector_common.json_body import json_loads

PARSED_BODY = "_parsed_json_body"


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Any = _NotJson()  # the parsed body of a response whose body is not JSON


def parsed_body(response: requests.Response) -> Any:
    """The response's body parsed as JSON, or NOT_JSON. An empty body is NOT_JSON too, whatever the status: both APIs
    answer JSON to every request, so an empty body is a cut-off answer, not an empty page."""
    body = getattr(response, PARSED_BODY, NOT_JSON)
    if body is NOT_JSON and not hasattr(response, PARSED_BODY):
        try:
            content = response.content
            body = json_loads(content) if content else NOT_JSON
        except (ValueError, TypeError, UnicodeDecodeError):
            body = NOT_JSON
        setattr(response, PARSED_BODY, body)
    return body


def safe_url(response: requests.Response) -> str:
    """The response's URL without its query (which may hold a key or an e-mail address), for messages."""
    return (getattr(response, "url", None) or "").split("?")[0]


def records_under_key(
    body: Any,
    key: str,
    strict: bool,
    malformed: Callable[[str], Exception],
    empty_page: Callable[[dict], bool] = lambda body: False,
) -> Iterable[Any]:
    """The records of a page: the list under one top-level key of its parsed body, found by a key lookup.

    `strict`, for an API that always sends the list: a body that is not an object, a page without the list (unless
    `empty_page(body)` says the API left it out of an empty page) or with items that are not objects raises
    `malformed(what)`, since a page silently read as empty is a silent loss. Otherwise such a body reads as no record
    and the list's items are passed on as sent."""
    if not isinstance(body, dict):
        if strict:
            raise malformed("a body that is not a JSON object")
        return ()
    records = body.get(key)
    if isinstance(records, list):
        if strict and not all(isinstance(record, dict) for record in records):
            raise malformed(f"`{key}` items that are not objects")
        return records
    if not strict or (records is None and empty_page(body)):
        return ()
    raise malformed(f"no `{key}` list")
