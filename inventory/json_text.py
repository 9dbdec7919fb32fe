"""``json.dumps`` text from an encoder built once, for the digests written for every order.

``json.dumps`` with any argument builds a new encoder on every call and tracks
every container it enters to report a circular reference: for an order's payload
a third of the call. The text is the same, byte for byte (stored digests depend
on it); a circular structure, which no parsed payload can be, ends in
``RecursionError`` where ``json.dumps`` raised ``ValueError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring_ascii
from typing import Any


def dumps_like(
    *, sort_keys: bool = False, separators: tuple[str, str] = (", ", ": "), default: Callable[[Any], Any]
) -> Callable[[Any], str]:
    """``functools.partial(json.dumps, sort_keys=..., separators=..., default=...)``, the same text, faster."""
    item_separator, key_separator = separators
    if c_make_encoder is None:  # an interpreter without the C accelerator: json.dumps itself

        def slow(value: Any) -> str:
            return json.dumps(value, sort_keys=sort_keys, separators=separators, default=default)

        return slow
    # The arguments json.dumps gives it (ensure_ascii, allow_nan, no indent), without the circular check.
    encode = c_make_encoder(
        None, default, encode_basestring_ascii, None, key_separator, item_separator, sort_keys, False, True
    )

    def fast(value: Any) -> str:
        if isinstance(value, str):  # json.dumps encodes a bare string without the encoder
            return encode_basestring_ascii(value)
        return "".join(encode(value, 0))

    return fast
