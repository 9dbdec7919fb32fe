"""Order API shapes (API.md "Sales channels"). Parse and render only; rules live in services."""

from __future__ import annotations

import copy
import functools
import operator
from collections.abc import Callable
from typing import Any

from django.db.models.query_utils import DeferredAttribute
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from .. import services
from ..models import Customer, Order, OrderEvent, OrderLine, Shipment
from ..selectors import order_is_partially_shipped
from ..services import MAX_LINES, MAX_QUANTITY


class CustomerInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    kind = serializers.ChoiceField(choices=Customer.Kind.values, required=False, default=Customer.Kind.CONSUMER)


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    postal_code = serializers.CharField(max_length=20)
    country = serializers.CharField(min_length=2, max_length=2)


class LineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )


class OrderInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(min_length=1, max_length=64)
    channel = serializers.CharField(max_length=32, required=False, help_text="Staff only: the channel's code.")
    placed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", required=False, allow_null=True, default=None)
    customer = CustomerInputSerializer()
    shipping_address = AddressSerializer()
    lines = LineInputSerializer(many=True, min_length=1, max_length=MAX_LINES, allow_empty=False)
    shipping_method = serializers.CharField(max_length=50, required=False, default="", allow_blank=True)
    payment_status = serializers.ChoiceField(
        choices=Order.PaymentStatus.values, required=False, default=Order.PaymentStatus.PAID
    )
    promised_delivery_date = serializers.DateField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)

    def to_order_input(self) -> services.OrderInput:
        d = self.validated_data
        return services.OrderInput(
            external_id=d["external_id"],
            customer=services.CustomerInput(**d["customer"]),
            shipping_address=services.AddressInput(**d["shipping_address"]),
            lines=[services.LineInput(**line) for line in d["lines"]],
            placed_at=d["placed_at"],
            currency=d["currency"],
            shipping_method=d["shipping_method"],
            payment_status=d["payment_status"],
            promised_delivery_date=d["promised_delivery_date"],
            notes=d["notes"],
        )


class OrderCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class OrderReleaseHoldInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class OrderConfirmPaymentInputSerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True, help_text="The payment's id at the provider."
    )


class FieldsBuiltOnce:
    """Output-only serializers: build the fields once per class, and render through fields bound once.

    A ModelSerializer builds its fields from the model on every instantiation,
    then DRF deep-copies each (re-running every field's ``__init__``) and binds
    them: most of an order's render time, paid again for every nested line and
    shipment. Here ``fields`` (the schema, a caller that asks) are shallow
    copies of the ones built once; ``to_representation`` renders through the
    fields of one instance per class, built and bound once, as DRF's own loop
    does. What they share (arguments, validators, a nested list's child) is
    never changed by rendering; nothing they render reads the context.
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            cls._fields_built_once = built
        return {name: copy.copy(field) for name, field in built.items()}

    def to_representation(self, instance):
        ret = {}
        model, fields = _bound_once(type(self))
        own = isinstance(instance, model)  # else (a mapping, say) each field reads it as DRF does
        for field, read in fields:
            if not own:
                read = field.get_attribute
            try:
                attribute = read(instance)
            except SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[field.field_name] = None if check_for_none is None else field.to_representation(attribute)
        return ret


@functools.cache
def _bound_once(cls) -> tuple[type, list[tuple[serializers.Field, Callable[[Any], Any]]]]:
    """The readable fields of one instance of ``cls``, built and bound once: what every render of it loops over,
    each with how its value is read. A field that shows one of the model's own columns reads the attribute
    (DRF's ``get_attribute`` walks its source, tests for a mapping and a callable: 40% of rendering an order);
    any other, as DRF reads it."""
    model = cls.Meta.model
    bound = []
    for field in cls()._readable_fields:
        source = field.source_attrs
        column = len(source) == 1 and isinstance(getattr(model, source[0], None), DeferredAttribute)
        bound.append((field, operator.attrgetter(source[0]) if column else field.get_attribute))
    return model, bound


class CustomerSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["email", "name", "phone", "kind"]


class OrderLineSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "name",
            "quantity",
            "unit_price",
            "quantity_reserved",
            "quantity_backordered",
            "quantity_shipped",
            "quantity_returned",
            "quantity_cancelled",
        ]


class ShipmentLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="order_line.sku")
    quantity = serializers.IntegerField()


class ShipmentSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    location = serializers.CharField(source="location.code")
    lines = ShipmentLineSerializer(many=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "number",
            "location",
            "fulfillment",
            "status",
            "carrier",
            "tracking_number",
            "tracking_url",
            "shipped_at",
            "delivered_at",
            "lines",
        ]


class TotalsSerializer(serializers.Serializer):
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    shipping = serializers.DecimalField(max_digits=14, decimal_places=2, source="shipping_total")
    tax = serializers.DecimalField(max_digits=14, decimal_places=2, source="tax_total")
    total = serializers.DecimalField(max_digits=14, decimal_places=2)


class OrderSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    channel = serializers.CharField(source="channel.code")
    customer = CustomerSerializer()
    shipping_address = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True)
    totals = TotalsSerializer(source="*")
    shipments = ShipmentSerializer(many=True)
    partially_shipped = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "channel",
            "external_id",
            "status",
            "hold_reason",
            "placed_at",
            "received_at",
            "updated_at",
            "promised_delivery_date",
            "delivered_at",
            "currency",
            "customer",
            "shipping_address",
            "shipping_method",
            "payment_status",
            "invoice_due_at",
            "notes",
            "lines",
            "totals",
            "shipments",
            "partially_shipped",
        ]

    @extend_schema_field(AddressSerializer)
    def get_shipping_address(self, order: Order) -> dict:
        # What AddressSerializer(...).data renders (its fields are CharFields: str of the value, None kept),
        # without building a serializer for every order rendered.
        address = {
            "name": order.ship_name,
            "line1": order.ship_line1,
            "line2": order.ship_line2,
            "city": order.ship_city,
            "region": order.ship_region,
            "postal_code": order.ship_postal_code,
            "country": str(order.ship_country),
        }
        return {key: None if value is None else str(value) for key, value in address.items()}

    def get_partially_shipped(self, order: Order) -> bool:
        return order_is_partially_shipped(order)


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["type", "at", "actor", "data"]


class AvailabilitySerializer(serializers.Serializer):
    sku = serializers.CharField()
    available = serializers.IntegerField()
