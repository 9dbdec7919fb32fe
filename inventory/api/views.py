"""Staff endpoints for catalogue, locations and stock."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.response import Response

from .. import selectors, services
from ..models import Location, Product, StockItem, StockMovement
from .filters import LocationFilter, ProductFilter, StockFilter
from .permissions import StaffModelPermissions
from .serializers import (
    AdjustmentInputSerializer,
    ClientErrorResponseSerializer,
    LocationSerializer,
    MovementSerializer,
    ProductSerializer,
    StockItemSerializer,
)


def _actor(request) -> str:
    return f"user:{request.user.get_username()}"


_protected_delete = extend_schema(
    responses={
        204: None,
        409: OpenApiResponse(
            ClientErrorResponseSerializer, description="`protected`: orders or stock still refer to it."
        ),
    }
)


@extend_schema_view(destroy=_protected_delete)
class ProductViewSet(viewsets.ModelViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = ProductFilter


@extend_schema_view(destroy=_protected_delete)
class LocationViewSet(viewsets.ModelViewSet):
    queryset = Location.objects.prefetch_related("channels")
    serializer_class = LocationSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = LocationFilter


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
        responses={
            201: MovementSerializer,
            409: OpenApiResponse(
                ClientErrorResponseSerializer,
                description="`below_reserved`: on hand would fall below what is reserved for orders.",
            ),
        },
        description="An adjustment movement. Stock that grows is offered to waiting backorders, oldest first.",
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
