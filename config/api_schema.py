"""OpenAPI generation: every operation documents the error envelopes it can answer.

Views validate query strings and domain rules by hand (no request serializer or
filterset), so drf-standardized-errors would otherwise document 400 as a parse
error only. Any write may meet a rule of the current state (``409``) and any
request body may be over the 1 MiB limit (``413``, ``config.middleware``); a view
that names its own 409 or 413 (with the codes it uses) keeps its own.
"""

from __future__ import annotations

import re

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


# Any error item: a domain rule's attr and code (``lines``/``empty``, ``sku``/``unknown_sku``...)
# beside the serializer's fields, whose list items answer as ``lines.0.quantity``.
ERROR_ITEM = {
    "type": "object",
    "properties": {
        "attr": {"type": "string", "nullable": True, "description": "The field, dotted (`lines.0.sku`)."},
        "code": {"type": "string", "description": "What rule said no (`required`, `unknown_sku`...)."},
        "detail": {"type": "string"},
    },
    "required": ["code", "detail"],
}


def error_items_as_answered(result, generator, request, public):
    """Make the documented error items match what the API answers.

    drf-standardized-errors lists each serializer field's attr (list items as
    ``lines.INDEX.sku``) and its codes; answers name list items by number and
    domain rules add codes and attrs of their own. Each union of items becomes
    ``anyOf`` the listed fields (attr as a pattern, any code) or any item.
    """
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        props = schema.get("properties", {}) if name.endswith("ErrorComponent") else {}
        attr, code = props.get("attr"), props.get("code")
        if attr and len(attr.get("enum", ())) == 1:
            value = attr.pop("enum")[0]
            attr["pattern"] = "^" + re.escape(value).replace("INDEX", r"\d+") + "$"
        if code:
            code.pop("enum", None)
    schemas["ErrorItem"] = ERROR_ITEM
    for schema in schemas.values():
        if schema.get("discriminator", {}).get("propertyName") == "attr":  # a union of error items
            schema["anyOf"] = [*schema.pop("oneOf", []), {"$ref": "#/components/schemas/ErrorItem"}]
            del schema["discriminator"]
    return result
