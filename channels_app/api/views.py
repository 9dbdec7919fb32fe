"""Channels API: inbound payloads as they came, and the order intake that keeps every push raw."""

from __future__ import annotations

from django.db.models.query import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from orders.api.permissions import ChannelOrStaffModelPermissions, IsStaff, request_channel
from orders.api.views import OrderViewSet, place_order_schema
from orders.errors import DomainError, ErrorItem
from orders.models import Order
from orders.services import actor_for

from .. import intake, selectors, webhooks
from ..importers.parsers import flatten_errors
from ..models import InboundOrder, SalesChannel, WebhookEndpoint
from .filters import InboundOrderFilter
from .serializers import (
    InboundOrderSerializer,
    ReplayInputSerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSerializer,
)


class CanReplay(BasePermission):
    """A channel key replays its own payloads (scoped by the queryset); staff need change permission."""

    def has_permission(self, request, view):
        if request_channel(request) is not None:
            return True
        return IsStaff().has_permission(request, view) and request.user.has_perm("channels_app.change_inboundorder")


class InboundOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every payload as it arrived: ``received``, ``imported``, ``duplicate`` or ``failed`` with its error."""

    serializer_class = InboundOrderSerializer
    permission_classes = [ChannelOrStaffModelPermissions]
    filterset_class = InboundOrderFilter
    queryset = InboundOrder.objects.none()

    def get_queryset(self) -> QuerySet[InboundOrder]:
        return selectors.inbound_list(channel=request_channel(self.request))

    def filter_queryset(self, queryset):
        channel = request_channel(self.request)
        if channel is not None and self.request.query_params.get("channel", channel.code) != channel.code:
            return queryset.none()
        return super().filter_queryset(queryset)

    @extend_schema(request=ReplayInputSerializer, responses={200: InboundOrderSerializer})
    @action(detail=True, methods=["post"], permission_classes=[CanReplay], filterset_class=None)
    def replay(self, request, pk=None):
        inbound = self.get_object()
        data = ReplayInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        inbound = intake.inbound_replay(
            inbound=inbound, actor=actor_for(request.user), payload=data.validated_data.get("payload")
        )
        return Response(InboundOrderSerializer(selectors.inbound_list().get(pk=inbound.pk)).data)


def _error_items(exc: Exception) -> list[ErrorItem]:
    if isinstance(exc, DomainError):
        return exc.items
    if isinstance(exc, APIException):
        return flatten_errors(exc.detail) or [ErrorItem(exc.default_code, str(exc.detail), None)]
    return [ErrorItem("server_error", f"{type(exc).__name__}: {exc}", None)]


class OrderIntakeViewSet(OrderViewSet):
    """``/api/v1/orders/``: the orders API, with every pushed payload kept raw, whatever becomes of it.

    Behaviour and shapes are the orders API's (``OrderViewSet.create``); this
    only adds the ``InboundOrder`` row: a new order's written with the order,
    in its transaction and round trip; any other (a retry, a refusal, a crash)
    on its own after, with the error or the order it repeats. Until answered,
    the caller still holds the payload: a crash before the commit loses nothing
    it will not send again.
    """

    _inbound: InboundOrder | None = None
    _recorded = False

    def place(self, *, channel, data, actor, also=None):
        if self._inbound is None:
            return super().place(channel=channel, data=data, actor=actor, also=also)
        inbound = self._inbound
        order, created = super().place(
            channel=channel,
            data=data,
            actor=actor,
            also=lambda order, writes: intake.inbound_imported(inbound, order, writes),
        )
        self._recorded = created
        return order, created

    @place_order_schema
    def create(self, request):
        body = request._request.body  # read it now: DRF's parser consumes the stream
        try:
            payload = request.data
        except ParseError as exc:
            self._keep_unparsable(request, exc, body)
            raise
        channel = self._channel_of(request, payload)
        if channel is None:
            return super().create(request)  # no channel to file it under: the parent says 400/403
        if hasattr(payload, "dict"):
            payload = payload.dict()  # a form post: keep plain values
        inbound = intake.inbound_new(
            channel=channel,
            way_in=InboundOrder.WayIn.API,
            fmt=InboundOrder.Format.API,
            payload=payload,
            source=actor_for(request.user),
        )
        self._inbound = inbound
        try:
            response = super().create(request)
        except Exception as exc:
            if not self._recorded:  # (a new order's row, committed with it, stands)
                intake.inbound_kept(inbound=inbound, errors=_error_items(exc))
            raise
        if not self._recorded:  # a retry of an order placed before
            intake.inbound_kept(inbound=inbound, order=Order(pk=response.data["id"]), created=False)
        return response

    @staticmethod
    def _channel_of(request, payload) -> SalesChannel | None:
        channel = request_channel(request)
        if channel is not None:
            return channel
        code = payload.get("channel") if isinstance(payload, dict) else None
        return SalesChannel.objects.filter(code=code).first() if isinstance(code, str) and code else None

    @staticmethod
    def _keep_unparsable(request, exc: ParseError, body: bytes) -> None:
        channel = request_channel(request)
        if channel is None:
            return
        inbound = intake.inbound_new(
            channel=channel,
            way_in=InboundOrder.WayIn.API,
            fmt=InboundOrder.Format.API,
            payload={"unparsed_body": body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")},
            source=actor_for(request.user),
        )
        intake.inbound_kept(inbound=inbound, errors=[ErrorItem("parse_error", str(exc.detail), None)])


class WebhookEndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """A channel's webhook URLs. The signing secret is shown once, in the answer to the create."""

    serializer_class = WebhookEndpointSerializer
    permission_classes = [ChannelOrStaffModelPermissions]
    queryset = WebhookEndpoint.objects.none()

    def get_queryset(self):
        qs = WebhookEndpoint.objects.select_related("channel").order_by("-id")
        channel = request_channel(self.request)
        return qs.filter(channel=channel) if channel is not None else qs

    @extend_schema(request=WebhookEndpointInputSerializer, responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request):
        data = WebhookEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = request_channel(request)
        if channel is None:
            channel = SalesChannel.objects.filter(code=data.validated_data.get("channel", "")).first()
            if channel is None:
                raise ValidationError({"channel": ["Staff must name an existing channel's code."]})
        endpoint = webhooks.webhook_endpoint_create(
            channel=channel, url=data.validated_data["url"], events=data.validated_data["events"]
        )
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)
