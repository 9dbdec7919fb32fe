"""Refuse oversized request bodies before anything parses them."""

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
        return self.get_response(request)


def too_large_response() -> HttpResponse:
    limit = settings.REQUEST_BODY_LIMIT_BYTES
    body = {
        "type": "client_error",
        "errors": [
            {
                "code": "request_too_large",
                "detail": f"The request body is larger than the limit of {limit} bytes.",
                "attr": None,
            }
        ],
    }
    return HttpResponse(json.dumps(body), status=413, content_type="application/json")
