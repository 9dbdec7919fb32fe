"""Return endpoints: parse, call a service, render."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory.api.permissions import ChannelOrStaffModelPermissions, request_channel
from inventory.errors import NotFound
from orders.models import Order
from orders.services import actor_for

from .. import selectors, services
from ..models import Return
from .filters import ReturnFilter
from .permissions import CanProcessReturns
from .serializers import (
    ReturnCloseInputSerializer,
    ReturnInputSerializer,
    ReturnReceiveInputSerializer,
    ReturnRejectInputSerializer,
    ReturnSerializer,
)

STAFF_ACTIONS = {"approve", "reject", "receive", "close"}


class ReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Channel keys see and request returns of their own orders; staff see all and work them."""

    serializer_class = ReturnSerializer
    filterset_class = ReturnFilter
    queryset = Return.objects.none()  # for the schema and permissions; get_queryset scopes it

    def get_permissions(self):
        if self.action in STAFF_ACTIONS:
            return [CanProcessReturns()]
        return [ChannelOrStaffModelPermissions()]

    def get_queryset(self):
        return selectors.return_list(channel=request_channel(self.request))

    def _render(self, rma: Return, code=status.HTTP_200_OK) -> Response:
        return Response(ReturnSerializer(selectors.return_list().get(pk=rma.pk)).data, status=code)

    @extend_schema(request=ReturnInputSerializer, responses={201: ReturnSerializer})
    def create(self, request):
        data = ReturnInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        orders = Order.objects.all()
        channel = request_channel(request)
        if channel is not None:
            orders = orders.filter(channel=channel)
        order = orders.filter(pk=data.validated_data["order"]).first()
        if order is None:
            raise NotFound(f"No order with id {data.validated_data['order']}.", attr="order")
        rma = services.return_request(order=order, actor=actor_for(request.user), **data.service_kwargs())
        return self._render(rma, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ReturnSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        rma = services.return_approve(rma=self.get_object(), actor=actor_for(request.user))
        return self._render(rma)

    @extend_schema(request=ReturnRejectInputSerializer, responses={200: ReturnSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = ReturnRejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rma = services.return_reject(
            rma=self.get_object(), reason=data.validated_data["reason"], actor=actor_for(request.user)
        )
        return self._render(rma)

    @extend_schema(request=ReturnReceiveInputSerializer, responses={200: ReturnSerializer})
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        data = ReturnReceiveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rma = services.return_receive(
            rma=self.get_object(),
            lines=[services.ReceiveLineInput(**line) for line in data.validated_data["lines"]],
            location_code=data.validated_data["location"] or None,
            actor=actor_for(request.user),
        )
        return self._render(rma)

    @extend_schema(request=ReturnCloseInputSerializer, responses={200: ReturnSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        data = ReturnCloseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        rma = services.return_close(
            rma=self.get_object(),
            amount=d["amount"],
            method=d["method"],
            reference=d["reference"],
            actor=actor_for(request.user),
        )
        return self._render(rma)
