"""Per-key request throttling for channel keys (``429`` with ``Retry-After``).

Keyed on the key's id and lookup, not the channel, so one runaway integration
does not starve the channel's other keys. Staff tokens are not throttled here.
The rate comes from ``settings.CHANNEL_KEY_THROTTLE_RATE`` (e.g. ``"600/min"``),
read on every request so it can be changed per environment and in tests.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from .models import ChannelKey

log = logging.getLogger(__name__)


class ChannelKeyRateThrottle(SimpleRateThrottle):
    scope = "channel_key"
    cache = caches["throttle"]

    def get_rate(self) -> str | None:
        return getattr(settings, "CHANNEL_KEY_THROTTLE_RATE", None)

    def allow_request(self, request, view):
        # The rate is read per request (SimpleRateThrottle reads it once, at construction).
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception:  # the counter store (Redis) is down: serve rather than fail every channel
            log.warning("channel key throttle: cache unavailable, request allowed", exc_info=True)
            return True

    def get_cache_key(self, request, view) -> str | None:
        key = request.auth
        if not isinstance(key, ChannelKey):
            return None  # staff and anonymous requests: not a channel key, not throttled here
        return self.cache_format % {"scope": self.scope, "ident": f"{key.pk}:{key.lookup}"}
