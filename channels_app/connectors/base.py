"""The connector interface, and one careful HTTP client for all of them (stdlib only)."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from django.utils import timezone

from ..models import ChannelConnector


class ConnectorError(Exception):
    """The marketplace could not be reached or refused us; the pull stops, the cursor stays."""


@dataclass(frozen=True)
class PulledOrder:
    payload: dict[str, Any]  # the order exactly as the marketplace sent it
    updated_at: datetime  # its modification time there: the cursor moves to the greatest one stored


@dataclass(frozen=True)
class Tracking:
    external_id: str
    carrier: str
    tracking_number: str
    tracking_url: str = ""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any


class Connector:
    """One marketplace. ``fetch_orders`` yields orders changed since ``since`` (oldest first, all pages);
    ``push_tracking`` tells the marketplace a shipment left with its tracking number."""

    format: str = ""
    max_tries = 5
    backoff_seconds = 1.0
    timeout = 30
    # A 429 asking for a longer wait is not slept through (a worker would hang): the pull stops and the
    # next one (the beat, after its cool-down) tries again.
    max_retry_after_seconds = 60.0

    def __init__(self, config: ChannelConnector, *, sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.sleep = sleep

    def fetch_orders(self, *, since: datetime | None) -> Iterator[PulledOrder]:
        raise NotImplementedError

    def push_tracking(self, tracking: Tracking) -> None:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}

    def request(self, method: str, url: str, body: Any = None) -> Response:
        """JSON over HTTP; honours ``429 Retry-After`` and retries 5xx, network errors, timeouts and
        answers that are not JSON with exponential backoff, ``max_tries`` in all; then ``ConnectorError``."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", "User-Agent": "OMS-Connector/1", **self.headers()}
        if data is not None:
            headers["Content-Type"] = "application/json"
        last = ""
        for attempt in range(1, self.max_tries + 1):
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            backoff = self.backoff_seconds * 2 ** (attempt - 1)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as raw:  # noqa: S310 - configured URL
                    text = raw.read()
                    return Response(raw.status, {k.lower(): v for k, v in raw.headers.items()}, _json(text))
            except urllib.error.HTTPError as exc:
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                last = f"HTTP {exc.code} from {method} {url}"
                if exc.code == 429:
                    wait = _retry_after_seconds(retry_after, default=backoff)
                    if wait > self.max_retry_after_seconds:
                        raise ConnectorError(f"{last}: rate limited, told to wait {wait:.0f} s") from None
                    self.sleep(wait)
                    continue
                if exc.code >= 500:
                    self.sleep(backoff)
                    continue
                detail = exc.read()[:300].decode(errors="replace")
                raise ConnectorError(f"{last}: {detail}") from None
            except NotJSON as exc:  # a proxy's error page, a truncated body: worth another try
                last = f"{exc} (from {method} {url})"
                self.sleep(backoff)
            except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets, bad status lines
                last = f"{type(exc).__name__} on {method} {url}: {getattr(exc, 'reason', exc)}"
                self.sleep(backoff)
        raise ConnectorError(f"gave up after {self.max_tries} tries: {last}")


class NotJSON(ConnectorError):
    """A 2xx answer whose body is not JSON."""


def _json(text: bytes) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise NotJSON(f"The marketplace answered something that is not JSON: {text[:120]!r}") from None


def _retry_after_seconds(value: str | None, *, default: float) -> float:
    """``Retry-After`` is seconds (Shopify sends ``2.0``) or an HTTP date."""
    if not value:
        return default
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - timezone.now()).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return default
