"""OpenAPI generation: every operation documents the error envelopes it can answer.

Views validate query strings and domain rules by hand (no request serializer or
filterset), so drf-standardized-errors would otherwise document 400 as a parse
error only. Any write may meet a rule of the current state (``409``) and any
request body may be over the 1 MiB limit (``413``, ``config.middleware``); a view
that names its own 409 or 413 (with the codes it uses) keeps its own.
"""

from __future__ import annotations

from drf_standardized_errors.openapi import AutoSchema

WRITES = ("POST", "PUT", "PATCH", "DELETE")
WITH_BODY = ("POST", "PUT", "PATCH")


class OmsAutoSchema(AutoSchema):
    def _should_add_validation_error_response(self) -> bool:
        return True

    def _get_allowed_error_status_codes(self) -> list[str]:
        codes = super()._get_allowed_error_status_codes()
        if self.method in WRITES:
            codes.append("409")
        if self.method in WITH_BODY:
            codes.append("413")
        return codes

    def _get_error_response_serializer(self, status_code: str):
        if status_code in ("409", "413"):
            from inventory.api.serializers import ClientErrorResponseSerializer

            return ClientErrorResponseSerializer
        return super()._get_error_response_serializer(status_code)
