"""Every API error in API.md's envelope, through drf-standardized-errors' own extension points.

``REST_FRAMEWORK["EXCEPTION_HANDLER"]`` stays the library's handler (so its
OpenAPI integration documents the error responses); settings point it at the
two classes below:

- ``ExceptionHandler`` turns what our code raises into API exceptions: a
  domain error (``inventory.errors.DomainError``) keeps its code, attr and
  status (400 or 409); deleting a row others still point at is ``409
  protected``; a body over the limit is ``413``.
- ``ExceptionFormatter`` renders a domain error's several items, and names a
  nested object or list that is wrong as a whole by its own path
  (``lines``, not ``lines.non_field_errors``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import ProtectedError, RestrictedError
from drf_standardized_errors import formatter, handler
from drf_standardized_errors.types import Error
from rest_framework import exceptions

from inventory.errors import DomainError

NESTED_NON_FIELD = ".non_field_errors"


class DomainAPIException(exceptions.APIException):
    """A domain error on its way to the envelope (400 or 409, with every item)."""

    def __init__(self, error: DomainError):
        super().__init__(detail=error.detail, code=error.code)
        self.status_code = error.status
        self.domain_error = error


class Protected(exceptions.APIException):
    status_code = 409
    default_code = "protected"
    default_detail = "Other records still refer to this one, so it cannot be deleted. Deactivate it instead."


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "request_too_large"

    def __init__(self):
        super().__init__(f"The request body is larger than the limit of {settings.REQUEST_BODY_LIMIT_BYTES} bytes.")


class ExceptionHandler(handler.ExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DomainError):
            return DomainAPIException(exc)
        if isinstance(exc, ProtectedError | RestrictedError):
            return Protected()
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        return super().convert_known_exceptions(exc)


class ExceptionFormatter(formatter.ExceptionFormatter):
    def get_error_type(self):
        if isinstance(self.exc, DomainAPIException) and self.exc.status_code == 400:
            return "validation_error"
        return super().get_error_type()

    def get_errors(self) -> list[Error]:
        if isinstance(self.exc, DomainAPIException):
            return [Error(item.code, item.detail, item.attr) for item in self.exc.domain_error.items]
        return [Error(e.code, e.detail, _plain_attr(e.attr)) for e in super().get_errors()]

    def format_error_response(self, error_response):
        body = super().format_error_response(error_response)
        if isinstance(self.exc, DomainAPIException) and self.exc.domain_error.extra:
            body["errors"][0]["extra"] = self.exc.domain_error.extra
        return body


def _plain_attr(attr: str | None) -> str | None:
    """``lines.non_field_errors`` -> ``lines``; a top-level ``non_field_errors`` stays as it is."""
    if attr and attr.endswith(NESTED_NON_FIELD):
        return attr[: -len(NESTED_NON_FIELD)]
    return attr
