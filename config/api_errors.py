"""One exception handler for the API: domain errors and oversized bodies in API.md's envelope."""

from django.core.exceptions import RequestDataTooBig
from drf_standardized_errors.handler import exception_handler as standardized_handler
from rest_framework.response import Response

from inventory.errors import DomainError

from .middleware import too_large_response


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        kind = "validation_error" if exc.status == 400 else "client_error"
        errors = [{"code": e.code, "detail": e.detail, "attr": e.attr} for e in exc.items]
        body = {"type": kind, "errors": errors}
        if exc.extra:
            body["errors"][0].update({"extra": exc.extra})
        return Response(body, status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        return too_large_response()
    return standardized_handler(exc, context)
