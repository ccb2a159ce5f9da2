"""One answer per URL and sync, for an endpoint that several components of the sync request.

Campaign Monitor's summary of a campaign is both a record (`campaign_summary`) and the change signal that lets the
campaign's event streams skip an unchanged campaign: two components, two requests per campaign, unless the answer is
shared. Only the requesters the manifest names this way share answers; only for the sync (connector_common.sync_store);
an attempt that raises keeps nothing, so the next caller sends it again.
"""

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import requests

from connector_common.adaptive_concurrency import AdaptiveConcurrencyRequester
from connector_common.sync_store import sync_store


@dataclass
class OneAnswerPerSyncRequester(AdaptiveConcurrencyRequester):
    """A requester whose requests for the same URL and query within one sync are sent once, their answer shared.

    Why not YAML: the CDK's HTTP cache is per stream (one cache per requester name) and keeps answers across retries;
    no declarative option shares one answer between two components of a sync."""

    def send_request(
        self,
        stream_state: Optional[Mapping[str, Any]] = None,
        stream_slice: Optional[Any] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
        path: Optional[str] = None,
        request_headers: Optional[Mapping[str, Any]] = None,
        request_params: Optional[Mapping[str, Any]] = None,
        **kwargs: Any,
    ) -> Optional[requests.Response]:
        url = self._get_url(path=path, stream_state=stream_state, stream_slice=stream_slice,
                            next_page_token=next_page_token)
        params = self._request_params(stream_state, stream_slice, next_page_token, request_params)
        key = ("answer", self.get_method().value, url, tuple(sorted((str(k), str(v)) for k, v in params.items())))

        def send() -> Optional[requests.Response]:
            return super(OneAnswerPerSyncRequester, self).send_request(
                stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token, path=path,
                request_headers=request_headers, request_params=request_params, **kwargs)

        return sync_store(self.config).once(key, send)
