"""Per-key request throttling for every API key (``429`` with ``Retry-After``).

Keyed on the key itself (its kind, id and lookup), not the channel or the user,
so one runaway integration does not starve the channel's other keys. Channel
keys use ``settings.CHANNEL_KEY_THROTTLE_RATE``; partner keys and staff tokens
``settings.API_KEY_THROTTLE_RATE`` (e.g. ``"600/min"``); both are read on every
request so they can be changed per environment and in tests. Admin sessions
are not API keys and are not throttled here.

A counter per key whose window opens with the key's first request (``SET NX
EX``, ``INCR`` and ``TTL`` in one round trip on Redis), not DRF's list of
every request's time: at 6000/min that list is tens of kilobytes read,
unpickled, pickled and written back on every request. Back to back, two
windows may let up to twice the rate through; the rate guards against
runaways, it is not a meter.
"""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from inventory.apikeys import ApiKey

from .models import ChannelKey

log = logging.getLogger(__name__)


class ChannelKeyRateThrottle(SimpleRateThrottle):
    scope = "channel_key"
    cache = caches["throttle"]

    def get_rate(self, key=None) -> str | None:
        if key is None or isinstance(key, ChannelKey):
            return getattr(settings, "CHANNEL_KEY_THROTTLE_RATE", None)
        return getattr(settings, "API_KEY_THROTTLE_RATE", None)

    def allow_request(self, request, view):
        # The rate is read per request (SimpleRateThrottle reads it once, at construction).
        self.rate = self.get_rate(request.auth)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        try:
            count, self.retry_after = self._count(self.key)
        except Exception:  # the counter store (Redis) is down: serve rather than fail every channel
            log.warning("channel key throttle: cache unavailable, request allowed", exc_info=True)
            return True
        return count <= self.num_requests

    def _count(self, key: str) -> tuple[int, float]:
        """Requests of the key in its current window (this one included), and seconds until the window ends.

        The window opens with the key's first request and lasts ``duration``.
        """
        backend = getattr(self.cache, "_cache", None)
        if hasattr(backend, "get_client"):  # Redis: one round trip
            name = self.cache.make_and_validate_key(key)
            pipe = backend.get_client(name, write=True).pipeline()
            pipe.set(name, 0, ex=self.duration, nx=True)
            pipe.incr(name)
            pipe.ttl(name)
            _, count, ttl = pipe.execute()
            return int(count), float(ttl if ttl and ttl > 0 else self.duration)
        now = self.timer()
        self.cache.add(f"{key}:ends", now + self.duration, timeout=self.duration)
        self.cache.add(key, 0, timeout=self.duration)
        count = self.cache.incr(key)
        return count, (self.cache.get(f"{key}:ends") or now + self.duration) - now

    def wait(self) -> float:
        return max(1, math.ceil(self.retry_after))

    def get_cache_key(self, request, view) -> str | None:
        key = request.auth
        if not isinstance(key, ApiKey):
            return None  # admin sessions and anonymous requests: no key, not throttled here
        kind = "" if isinstance(key, ChannelKey) else f"{key._meta.label_lower}:"  # channel keys: as before
        ident = f"{kind}{key.pk}:{key.lookup}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
