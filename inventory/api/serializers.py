"""Catalogue, locations and stock (API.md "Staff: catalogue, locations and stock")."""

from __future__ import annotations

from django_countries import countries
from rest_framework import serializers

from ..models import Location, Product, StockItem, StockMovement
from ..services import location_save


class ProductSerializer(serializers.ModelSerializer):
    cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "barcode", "weight_grams", "cost", "price", "active"]


class LocationAddressSerializer(serializers.Serializer):
    line1 = serializers.CharField(source="address_line1", required=False, allow_blank=True, max_length=200)
    line2 = serializers.CharField(source="address_line2", required=False, allow_blank=True, max_length=200)
    city = serializers.CharField(required=False, allow_blank=True, max_length=100)
    region = serializers.CharField(required=False, allow_blank=True, max_length=100)
    postal_code = serializers.CharField(required=False, allow_blank=True, max_length=20)
    country = serializers.CharField(required=False, allow_blank=True, max_length=2)


class ChannelCodesField(serializers.SlugRelatedField):
    """Channel codes; the model is reached through the relation, since inventory imports no app above it."""

    def get_queryset(self):
        return Location._meta.get_field("channels").related_model.objects.all()


class LocationSerializer(serializers.ModelSerializer):
    address = LocationAddressSerializer(source="*", required=False)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True
    )
    channels = ChannelCodesField(slug_field="code", many=True, required=False)

    class Meta:
        model = Location
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "priority",
            "active",
            "address",
            "latitude",
            "longitude",
            "channels",
        ]

    def create(self, validated_data):
        channels = validated_data.pop("channels", None)
        return location_save(location=Location(), fields=validated_data, channels=channels)

    def update(self, instance, validated_data):
        channels = validated_data.pop("channels", None)
        return location_save(location=instance, fields=validated_data, channels=channels)

    def validate_address(self, value):
        country = value.get("country")
        if country:
            if country.upper() not in countries:
                raise serializers.ValidationError({"country": "Not an ISO 3166-1 alpha-2 country code."})
            value["country"] = country.upper()
        return value


class StockItemSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    location = serializers.CharField(source="location.code")
    available = serializers.IntegerField()

    class Meta:
        model = StockItem
        fields = [
            "id",
            "sku",
            "location",
            "on_hand",
            "reserved",
            "available",
            "bin",
            "reorder_point",
            "reorder_quantity",
            "max_stock",
        ]


class AdjustmentInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    location = serializers.CharField(max_length=32)
    delta = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000)
    reason = serializers.CharField(max_length=200)


class MovementSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="stock_item.product.sku")
    location = serializers.CharField(source="stock_item.location.code")
    on_hand = serializers.IntegerField(source="stock_item.on_hand")
    reserved = serializers.IntegerField(source="stock_item.reserved")

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "sku",
            "location",
            "kind",
            "quantity",
            "reason",
            "reference",
            "created_at",
            "on_hand",
            "reserved",
        ]


class ClientErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ClientErrorResponseSerializer(serializers.Serializer):
    """API.md's envelope for a ``409`` (a rule of the current state says no) or a ``413``.

    For the OpenAPI schema only; ``config.api_errors`` renders the real thing.
    """

    type = serializers.ChoiceField(choices=["client_error"])
    errors = ClientErrorSerializer(many=True)
