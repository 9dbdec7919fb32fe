"""The project's URLs plus the same-run baselines: a DRF endpoint that only validates an order, and one that
places it the way a team writes it by default."""

from django.db import transaction
from django.db.models import F
from django.urls import include, path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.permissions import IsChannelOrStaff, request_channel
from inventory.models import Product, StockItem
from orders.api.serializers import OrderInputSerializer
from orders.models import Customer, Order, OrderLine


class ValidateOnlyView(APIView):
    """Authenticates and validates the same payload as POST /api/v1/orders/, then stops."""

    permission_classes = [IsChannelOrStaff]

    def post(self, request):
        data = OrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"external_id": data.validated_data["external_id"]}, status=201)


class DefaultPlaceView(APIView):
    """The same order placed as issue 8 describes "the way a team writes it by default": the DRF serializer,
    then the ORM — a customer get_or_create, an INSERT for the order and one per line, a ``select_for_update``
    and an ``F()`` update per stock row. Nothing else: no staging, sourcing, prices, events or outbox."""

    permission_classes = [IsChannelOrStaff]

    def post(self, request):
        data = OrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sent, address, now = data.validated_data, data.validated_data["shipping_address"], timezone.now()
        with transaction.atomic():
            customer, _ = Customer.objects.get_or_create(
                email=sent["customer"]["email"].lower(), defaults={"name": sent["customer"]["name"]}
            )
            order = Order.objects.create(
                channel=request_channel(request),
                external_id=sent["external_id"],
                customer=customer,
                status=Order.Status.RECEIVED,
                placed_at=now,
                received_at=now,
                currency=sent["currency"] or "USD",
                ship_name=address["name"],
                ship_line1=address["line1"],
                ship_city=address["city"],
                ship_region=address.get("region", ""),
                ship_postal_code=address["postal_code"],
                ship_country=address["country"],
                fingerprint="default",
            )
            for line in sent["lines"]:
                product = Product.objects.get(sku=line["sku"])
                stock = StockItem.objects.select_for_update().filter(product=product).order_by("pk").first()
                StockItem.objects.filter(pk=stock.pk).update(reserved=F("reserved") + line["quantity"])
                OrderLine.objects.create(
                    order=order,
                    product=product,
                    sku=product.sku,
                    name=product.name,
                    quantity=line["quantity"],
                    unit_price=product.price,
                    quantity_reserved=line["quantity"],
                )
        return Response({"id": order.pk, "external_id": order.external_id}, status=201)


urlpatterns = [
    path("bench/validate/", ValidateOnlyView.as_view()),
    path("bench/default/", DefaultPlaceView.as_view()),
    path("", include("config.urls")),
]
