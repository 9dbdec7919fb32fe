"""Staff endpoints for catalogue, locations and stock."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.response import Response

from .. import selectors, services
from ..models import Location, Product, StockItem, StockMovement
from .filters import LocationFilter, ProductFilter
from .permissions import StaffModelPermissions
from .serializers import (
    AdjustmentInputSerializer,
    LocationSerializer,
    MovementSerializer,
    ProductSerializer,
    StockItemSerializer,
)


def _actor(request) -> str:
    return f"user:{request.user.get_username()}"


class ProductViewSet(viewsets.ModelViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = ProductFilter


class LocationViewSet(viewsets.ModelViewSet):
    queryset = Location.objects.prefetch_related("channels")
    serializer_class = LocationSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = LocationFilter


class StockFilter(filters.FilterSet):
    sku = filters.CharFilter(field_name="product__sku")
    location = filters.CharFilter(field_name="location__code")

    class Meta:
        model = StockItem
        fields = []


class StockViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = StockItem.objects.none()
    serializer_class = StockItemSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = StockFilter

    def get_queryset(self):
        return selectors.stock_list()


class StockAdjustmentView(generics.GenericAPIView):
    queryset = StockMovement.objects.none()
    serializer_class = AdjustmentInputSerializer
    permission_classes = [StaffModelPermissions]

    @extend_schema(
        request=AdjustmentInputSerializer,
        responses={201: MovementSerializer},
        parameters=[OpenApiParameter("format", exclude=True)],
    )
    def post(self, request):
        data = AdjustmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        movement = services.stock_adjust(
            sku=d["sku"],
            location_code=d["location"],
            delta=d["delta"],
            reason=d["reason"],
            actor=_actor(request),
        )
        movement = StockMovement.objects.select_related("stock_item__product", "stock_item__location").get(
            pk=movement.pk
        )
        return Response(MovementSerializer(movement).data, status=status.HTTP_201_CREATED)
