"""Shapes of the channels API (API.md "Channels and partners")."""

from __future__ import annotations

from rest_framework import serializers

from orders.models import Order, human_number

from ..models import InboundOrder, WebhookEndpoint


class InboundErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class InboundOrderSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    errors = InboundErrorSerializer(many=True)
    order_number = serializers.SerializerMethodField()

    class Meta:
        model = InboundOrder
        fields = [
            "id",
            "channel",
            "way_in",
            "format",
            "external_id",
            "status",
            "error",
            "errors",
            "payload",
            "order",
            "order_number",
            "attempts",
            "source",
            "created_at",
            "updated_at",
        ]

    def get_order_number(self, inbound: InboundOrder) -> str | None:
        return human_number(Order.NUMBER_PREFIX, inbound.order_id) or None


class ReplayInputSerializer(serializers.Serializer):
    payload = serializers.JSONField(
        required=False, help_text="A corrected payload to store before replaying (failed payloads only)."
    )


class WebhookEndpointSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code", read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "channel", "url", "events", "active", "created_at"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The answer to a create: the only time the signing secret is shown."""

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.CharField(max_length=60), min_length=1, max_length=50)
    channel = serializers.CharField(max_length=32, required=False, help_text="Staff only: the channel's code.")
