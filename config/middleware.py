"""Refuse what the API can never serve before anything parses it: oversized bodies, NUL characters.

PostgreSQL can neither store nor compare text holding a NUL character, so a NUL
anywhere in an API request (query string, JSON ``\\u0000``, a form's ``%00``, a raw
0x00 byte) is a ``400`` here, before any row is staged, not a ``DataError`` later.
A JSON string holding the six characters ``\\u0000`` after an escaped backslash is
refused too: the price of not parsing the body twice.
"""

import json

from django.conf import settings
from django.http import HttpResponse


class RequestBodyLimitMiddleware:
    """API.md: a body over 1 MiB is ``413`` in the error envelope.

    The admin (file uploads) is left to Django's own limits.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.REQUEST_BODY_LIMIT_BYTES:
                return too_large_response()
            bad = next((key for key, values in request.GET.lists() if "\x00" in key + "".join(values)), None)
            if bad is not None:  # PostgreSQL cannot store or compare text with NUL bytes: a 400, not a 500
                return client_error_response(
                    400, "null_characters_not_allowed", "Query parameters may not contain NUL (0x00) bytes.", bad
                )
            if request.method in BODY_METHODS and _body_has_nul(request):
                detail = "The request body may not contain NUL (\\u0000) characters."
                return client_error_response(400, "null_characters_not_allowed", detail, None)
        return self.get_response(request)


BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _body_has_nul(request) -> bool:
    body = request.body
    if b"\x00" in body:
        return True
    content_type = request.META.get("CONTENT_TYPE", "")
    if "json" in content_type:
        return b"\\u0000" in body
    if "x-www-form-urlencoded" in content_type:
        return b"%00" in body
    return False


def too_large_response() -> HttpResponse:
    limit = settings.REQUEST_BODY_LIMIT_BYTES
    return client_error_response(
        413, "request_too_large", f"The request body is larger than the limit of {limit} bytes.", None
    )


def client_error_response(status: int, code: str, detail: str, attr: str | None) -> HttpResponse:
    kind = "validation_error" if status == 400 else "client_error"
    body = {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")
