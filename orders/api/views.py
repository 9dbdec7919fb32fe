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

from .. import routing, selectors, services
from ..models import Order
from .filters import OrderFilter
from .pagination import PlacedAtCursorPagination
from .permissions import ChannelOrStaffModelPermissions, IsChannelOrStaff, StaffModelPermissions, request_channel
from .serializers import (
    AvailabilitySerializer,
    OrderCancelInputSerializer,
    OrderConfirmPaymentInputSerializer,
    OrderEventSerializer,
    OrderInputSerializer,
    OrderReleaseHoldInputSerializer,
    OrderSerializer,
)


def _channel_by_code(code: str):
    """An active channel, looked up without importing channels_app (it sits above orders)."""
    channel_model = Order._meta.get_field("channel").related_model
    return channel_model.objects.filter(code=code, active=True).first()


def _placed_rows_at_hand(order: Order) -> bool:
    """``place_order`` keeps the rows it wrote on a new order (lines, shipments with theirs): render those."""
    cached = getattr(order, "_prefetched_objects_cache", {})
    return "lines" in cached and "shipments" in cached


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
    action_permissions = {  # staff; a channel key cancels its own and confirms its own payments
        "cancel": ["%(app_label)s.change_%(model_name)s"],
        "confirm_payment": ["%(app_label)s.change_%(model_name)s"],
        "release_hold": ["%(app_label)s.release_hold"],
    }

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
        order, created = self.place(channel=channel, data=data.to_order_input(), actor=services.actor_for(request.user))
        if not _placed_rows_at_hand(order):  # a replay: read the stored order with what the answer shows
            order = selectors.order_list().get(pk=order.pk)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def place(self, *, channel, data: services.OrderInput, actor: str, also=None) -> tuple[Order, bool]:
        """Place the validated order; ``also`` as ``services.place_order`` takes it (the intake view's record)."""
        return services.place_order(channel=channel, data=data, actor=actor, also=also)

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

    @extend_schema(
        request=OrderReleaseHoldInputSerializer,
        responses={
            200: OpenApiResponse(
                OrderSerializer,
                description="Released: `received`, or `backordered` when some quantity waits for stock; still "
                "`on_hold` with the next `hold_reason` when another hold applies (an unpaid consumer order, an "
                "address that fails its check, a credit limit).",
            ),
            403: OpenApiResponse(
                ClientErrorResponseSerializer,
                description="Staff with the `orders.release_hold` permission only (managers); never a channel key.",
            ),
            409: _conflict("`not_on_hold`: the order is not on hold."),
        },
        description="Release an order on hold (`hold_reason` `payment_pending`, `credit_limit`, "
        "`address_invalid`...) after a person looked at it. The timeline records who, why and the note.",
    )
    @action(detail=True, methods=["post"], url_path="release-hold", permission_classes=[StaffModelPermissions])
    def release_hold(self, request, pk=None):
        order = self.get_object()
        data = OrderReleaseHoldInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = services.actor_for(request.user)
        services.order_release_hold(order=order, note=data.validated_data["note"], actor=actor)
        return Response(OrderSerializer(selectors.order_list().get(pk=order.pk)).data)

    @extend_schema(
        request=OrderConfirmPaymentInputSerializer,
        responses={200: OrderSerializer},
        description="The order's payment came in: `payment_status` becomes `paid` and a `payment_pending` hold "
        "is lifted (other holds are checked again). Confirming a paid order changes nothing.",
    )
    @action(detail=True, methods=["post"], url_path="confirm-payment")
    def confirm_payment(self, request, pk=None):
        order = self.get_object()
        data = OrderConfirmPaymentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.order_payment_confirm(
            order=order, reference=data.validated_data["reference"], actor=services.actor_for(request.user)
        )
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
        locations = list(channel.locations.all() if channel is not None else Location.objects.all())
        # Safety stock and daily capacity as placing applies them (orders.routing).
        available = routing.sellable_by_sku(channel=channel, skus=skus, locations=locations)
        rows = [{"sku": sku, "available": available[sku]} for sku in dict.fromkeys(skus) if sku in available]
        return Response(AvailabilitySerializer(rows, many=True).data)
