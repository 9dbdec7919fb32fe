"""Order endpoints: parse, call a service, render."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.serializers import ClientErrorResponseSerializer
from inventory.models import Location
from inventory.selectors import available_by_sku

from .. import selectors, services
from ..models import Order
from .filters import OrderFilter
from .pagination import PlacedAtCursorPagination
from .permissions import ChannelOrStaffModelPermissions, IsChannelOrStaff, request_channel
from .serializers import (
    AvailabilitySerializer,
    OrderCancelInputSerializer,
    OrderEventSerializer,
    OrderInputSerializer,
    OrderSerializer,
)


def _channel_by_code(code: str):
    """An active channel, looked up without importing channels_app (it sits above orders)."""
    channel_model = Order._meta.get_field("channel").related_model
    return channel_model.objects.filter(code=code, active=True).first()


def _conflict(description: str) -> OpenApiResponse:
    return OpenApiResponse(ClientErrorResponseSerializer, description=description)


# Shared with views that wrap ``OrderViewSet.create`` (channels_app stages the payload first).
place_order_schema = extend_schema(
    request=OrderInputSerializer,
    responses={
        201: OpenApiResponse(OrderSerializer, description="The order was placed."),
        200: OpenApiResponse(OrderSerializer, description="The same order again: the existing order, nothing created."),
        409: _conflict("`idempotency_conflict`: this external_id was placed before with other content."),
        413: OpenApiResponse(ClientErrorResponseSerializer, description="`request_too_large`: the body is over 1 MiB."),
    },
    description=(
        "Place an order for the calling channel (staff name it with `channel`). Stock that cannot be "
        "reserved is backordered. The same external_id and content again answers 200 with the same order."
    ),
)


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    permission_classes = [ChannelOrStaffModelPermissions]
    pagination_class = PlacedAtCursorPagination
    filterset_class = OrderFilter
    queryset = Order.objects.none()  # for the schema and permissions; get_queryset scopes it
    action_permissions = {"cancel": ["%(app_label)s.change_%(model_name)s"]}  # staff; a channel key cancels its own

    def get_queryset(self):
        return selectors.order_list(channel=request_channel(self.request))

    def filter_queryset(self, queryset):
        channel = request_channel(self.request)
        if channel is not None and self.request.query_params.get("channel", channel.code) != channel.code:
            return queryset.none()  # a channel asking for another channel's orders sees none
        return super().filter_queryset(queryset)

    @place_order_schema
    def create(self, request):
        data = OrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = request_channel(request)
        code = data.validated_data.get("channel")
        if channel is None:
            if not code:
                raise ValidationError({"channel": ["Staff placing an order must name the channel's code."]})
            channel = _channel_by_code(code)
            if channel is None:
                raise ValidationError({"channel": [f"No active channel with code {code!r}."]})
        elif code and code != channel.code:
            raise PermissionDenied("A channel key places orders for its own channel only.")
        order, created = services.place_order(
            channel=channel, data=data.to_order_input(), actor=services.actor_for(request.user)
        )
        order = selectors.order_list().get(pk=order.pk)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=OrderCancelInputSerializer,
        responses={
            200: OrderSerializer,
            409: _conflict("`already_shipped` once a shipment has shipped; `invalid_transition` if already cancelled."),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        order = self.get_object()
        data = OrderCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cancel_order(order=order, reason=data.validated_data["reason"], actor=services.actor_for(request.user))
        return Response(OrderSerializer(selectors.order_list().get(pk=order.pk)).data)

    @extend_schema(responses={200: OrderEventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def events(self, request, pk=None):
        order = get_object_or_404(self.get_queryset().prefetch_related(None), pk=pk)
        return Response(OrderEventSerializer(selectors.order_events(order=order), many=True).data)


class AvailabilityView(APIView):
    permission_classes = [IsChannelOrStaff]

    @extend_schema(
        parameters=[
            OpenApiParameter("sku", str, many=True, required=True, description="Repeat for several SKUs."),
            OpenApiParameter("channel", str, description="Staff only: sell as this channel."),
        ],
        responses={200: AvailabilitySerializer(many=True)},
    )
    def get(self, request):
        skus = request.query_params.getlist("sku")
        if not skus:
            raise ValidationError({"sku": ["Name at least one SKU: ?sku=A&sku=B."]})
        if len(skus) > 200:
            raise ValidationError({"sku": ["At most 200 SKUs per request."]})
        channel = request_channel(request)
        if channel is None and request.query_params.get("channel"):
            channel = _channel_by_code(request.query_params["channel"])
            if channel is None:
                raise ValidationError({"channel": ["No such channel."]})
        locations = channel.locations.all() if channel is not None else Location.objects.all()
        available = available_by_sku(skus=skus, location_ids=locations.values_list("pk", flat=True))
        rows = [{"sku": sku, "available": available[sku]} for sku in dict.fromkeys(skus) if sku in available]
        return Response(AvailabilitySerializer(rows, many=True).data)
