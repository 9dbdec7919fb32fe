"""Staff stock operations beyond adjustments: transfers between locations and cycle counts."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from .. import services
from ..models import StockMovement
from .permissions import StaffModelPermissions
from .serializers import MovementSerializer


def _actor(request) -> str:
    return f"user:{request.user.get_username()}"


def _movements(*movements: StockMovement) -> list[StockMovement]:
    by_pk = StockMovement.objects.select_related("stock_item__product", "stock_item__location").in_bulk(
        [m.pk for m in movements]
    )
    return [by_pk[m.pk] for m in movements]


class TransferInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    from_location = serializers.CharField(max_length=32)
    to_location = serializers.CharField(max_length=32)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    reason = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class TransferOutputSerializer(serializers.Serializer):
    reference = serializers.CharField()
    out = MovementSerializer()
    into = MovementSerializer(source="in_")


class CountInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    location = serializers.CharField(max_length=32)
    counted = serializers.IntegerField(min_value=0, max_value=10_000_000)
    reason = serializers.CharField(max_length=200, required=False, default="cycle count", allow_blank=True)


class StockTransferView(generics.GenericAPIView):
    """``POST /api/v1/stock/transfers/`` — move units between locations (two movements, one transaction)."""

    queryset = StockMovement.objects.none()
    serializer_class = TransferInputSerializer
    permission_classes = [StaffModelPermissions]

    @extend_schema(request=TransferInputSerializer, responses={201: TransferOutputSerializer})
    def post(self, request):
        data = TransferInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        out, into = services.stock_transfer(
            sku=d["sku"],
            from_location=d["from_location"],
            to_location=d["to_location"],
            quantity=d["quantity"],
            reason=d["reason"],
            actor=_actor(request),
        )
        out, into = _movements(out, into)
        body = {"reference": out.reference, "out": out, "in_": into}
        return Response(TransferOutputSerializer(body).data, status=status.HTTP_201_CREATED)


class StockCountView(generics.GenericAPIView):
    """``POST /api/v1/stock/counts/`` — a cycle count; the difference becomes a ``count`` movement."""

    queryset = StockMovement.objects.none()
    serializer_class = CountInputSerializer
    permission_classes = [StaffModelPermissions]

    @extend_schema(request=CountInputSerializer, responses={201: MovementSerializer})
    def post(self, request):
        data = CountInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        movement = services.stock_count(
            sku=d["sku"], location_code=d["location"], counted=d["counted"], reason=d["reason"], actor=_actor(request)
        )
        (movement,) = _movements(movement)
        return Response(MovementSerializer(movement).data, status=status.HTTP_201_CREATED)
