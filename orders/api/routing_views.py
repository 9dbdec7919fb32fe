"""Why an order ships from where it does: the stored decision, and a dry run for an order body."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import routing
from ..models import Order
from .permissions import ChannelOrStaffModelPermissions, IsChannelOrStaff, request_channel
from .serializers import OrderInputSerializer


class CandidateSerializer(serializers.Serializer):
    location = serializers.CharField()
    kind = serializers.CharField()
    priority = serializers.IntegerField()
    distance_km = serializers.FloatField(allow_null=True)
    available = serializers.IntegerField(help_text="Units free for this channel (after its safety stock).")
    safety_stock = serializers.IntegerField()
    quantity = serializers.IntegerField(help_text="Units of the line sourced here.")
    outcome = serializers.ChoiceField(choices=["chosen", "lost"])
    reason = serializers.CharField(help_text="Why it lost: no_stock, insufficient_stock, at_capacity, ...")
    detail = serializers.CharField()


class AllocationSerializer(serializers.Serializer):
    location = serializers.CharField()
    quantity = serializers.IntegerField()


class LineDecisionSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    rule = serializers.CharField(
        help_text="availability, fewest_shipments, priority, distance, code, split, backordered, rejected"
    )
    detail = serializers.CharField()
    allocations = AllocationSerializer(many=True)
    backordered = serializers.IntegerField()
    rejected = serializers.IntegerField(
        default=0, help_text="Units refused at placement: the channel does not backorder (backorder_policy reject)."
    )
    candidates = CandidateSerializer(many=True)


class RoutingSerializer(serializers.Serializer):
    summary = serializers.DictField()
    lines = LineDecisionSerializer(many=True)


class OrderRoutingSerializer(RoutingSerializer):
    order = serializers.IntegerField()
    number = serializers.CharField()
    routed_at = serializers.DateTimeField()


class SimulationSerializer(RoutingSerializer):
    channel = serializers.CharField()


class OrderRoutingView(APIView):
    """``GET /api/v1/orders/{id}/routing/`` — per line, the locations considered, the rule, why others lost."""

    permission_classes = [ChannelOrStaffModelPermissions]
    queryset = Order.objects.none()

    def get_queryset(self):
        channel = request_channel(self.request)
        return Order.objects.filter(channel=channel) if channel is not None else Order.objects.all()

    @extend_schema(responses={200: OrderRoutingSerializer})
    def get(self, request, pk: int):
        order = get_object_or_404(self.get_queryset(), pk=pk)
        decision = routing.order_routing(order=order)
        if decision is None:
            raise NotFound("This order has no recorded routing decision.")
        return Response(OrderRoutingSerializer(decision).data)


class SourcingSimulateView(APIView):
    """``POST /api/v1/sourcing/simulate/`` — where this order would ship from, and why; reserves nothing."""

    permission_classes = [IsChannelOrStaff]

    @extend_schema(
        request=OrderInputSerializer,
        responses={200: SimulationSerializer},
        description="The order body of POST /api/v1/orders/ (external_id optional). Staff name the channel.",
    )
    def post(self, request):
        body = dict(request.data) if isinstance(request.data, dict) else request.data
        if isinstance(body, dict):
            body.setdefault("external_id", "simulation")
        data = OrderInputSerializer(data=body)
        data.is_valid(raise_exception=True)
        channel = request_channel(request)
        code = data.validated_data.get("channel")
        if channel is None:
            if not code:
                raise ValidationError({"channel": ["Staff simulating an order must name the channel's code."]})
            channel = Order._meta.get_field("channel").related_model.objects.filter(code=code).first()
            if channel is None:
                raise ValidationError({"channel": [f"No channel with code {code!r}."]})
        elif code and code != channel.code:
            raise ValidationError({"channel": ["A channel key simulates its own channel only."]})
        return Response(
            SimulationSerializer(routing.routing_simulate(channel=channel, data=data.to_order_input())).data
        )
