"""The project's URLs plus the same-run baselines: a DRF endpoint that only validates an order, one that
places it the way a team writes it by default, and one that places it as issue 8's "tuned Django view" does."""

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F
from django.urls import include, path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.permissions import IsChannelOrStaff, request_channel
from inventory.models import Product, StockItem
from orders.api.serializers import OrderInputSerializer
from orders.models import Customer, Order, OrderEvent, OrderLine, Shipment, ShipmentLine
from tests.benchmarks import raw_intake


class ValidateOnlyView(APIView):
    """Authenticates and validates the same payload as POST /api/v1/orders/, then stops."""

    permission_classes = [IsChannelOrStaff]

    def post(self, request):
        data = OrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"external_id": data.validated_data["external_id"]}, status=201)


def _order_columns(sent: dict, now) -> dict:
    """An order's own columns from the validated payload, as the baseline views store them."""
    address = sent["shipping_address"]
    return {
        "external_id": sent["external_id"],
        "status": Order.Status.RECEIVED,
        "placed_at": now,
        "received_at": now,
        "currency": sent["currency"] or "USD",
        "ship_name": address["name"],
        "ship_line1": address["line1"],
        "ship_city": address["city"],
        "ship_region": address.get("region", ""),
        "ship_postal_code": address["postal_code"],
        "ship_country": address["country"],
    }


class DefaultPlaceView(APIView):
    """The same order placed as issue 8 describes "the way a team writes it by default": the DRF serializer,
    then the ORM — a customer get_or_create, an INSERT for the order and one per line, a ``select_for_update``
    and an ``F()`` update per stock row. Nothing else: no staging, sourcing, prices, events or outbox."""

    permission_classes = [IsChannelOrStaff]

    def post(self, request):
        data = OrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sent, now = data.validated_data, timezone.now()
        with transaction.atomic():
            customer, _ = Customer.objects.get_or_create(
                email=sent["customer"]["email"].lower(), defaults={"name": sent["customer"]["name"]}
            )
            order = Order.objects.create(
                channel=request_channel(request), customer=customer, fingerprint="default", **_order_columns(sent, now)
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


class TunedPlaceView(APIView):
    """The same order placed as issue 8's "tuned Django view": the DRF serializer, then in one transaction the
    rows raw psycopg writes (``raw_intake``: the customer, the order, its lines, a shipment with its lines, three
    events) with bulk inserts, the stock rows locked in key order and reserved in one UPDATE, no per-line round
    trips. None of the product's rules: no staging, sourcing across locations, prices, holds, answer or outbox.
    ``LeanPlaceView`` writes less still: what careful Django code doing the least an order needs reaches here."""

    permission_classes = [IsChannelOrStaff]
    stock_of: dict[int, dict[int, int]] = {}  # channel -> product -> its stock row at the channel's first location
    with_shipment_and_events = True  # LeanPlaceView: the order, its lines and the reservation only

    def post(self, request):
        data = OrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sent, now = data.validated_data, timezone.now()
        channel = request_channel(request)
        stock = self.stock_of.get(channel.pk)
        if stock is None:
            location = channel.locations.order_by("priority", "pk").first()
            stock = dict(StockItem.objects.filter(location=location).values_list("product_id", "pk"))
            self.stock_of[channel.pk] = stock
        with transaction.atomic():
            products = {p.sku: p for p in Product.objects.filter(sku__in=[line["sku"] for line in sent["lines"]])}
            wanted = sorted(  # stock rows locked and reserved in key order
                ((stock[products[line["sku"]].pk], products[line["sku"]], line["quantity"]) for line in sent["lines"]),
                key=lambda one: one[0],
            )
            with connection.cursor() as cursor:  # the raw baseline's statements, through Django's cursor
                email = sent["customer"]["email"].lower()
                customer_id = raw_intake.upsert_customer(cursor, email=email, name=sent["customer"]["name"])
                reserved = raw_intake.reserve(cursor, [(row, quantity) for row, _, quantity in wanted])
            total = sum((product.price * quantity for _, product, quantity in wanted), Decimal(0))
            order = Order.objects.create(
                channel=channel,
                customer_id=customer_id,
                subtotal=total,
                total=total,
                fingerprint="tuned",
                **_order_columns(sent, now),
            )
            lines = OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        order=order,
                        product=product,
                        sku=product.sku,
                        name=product.name,
                        quantity=quantity,
                        unit_price=product.price,
                        quantity_reserved=quantity if row in reserved else 0,
                        quantity_backordered=0 if row in reserved else quantity,
                        quantity_filled_at_receipt=quantity if row in reserved else 0,
                    )
                    for row, product, quantity in wanted
                ]
            )
            if not self.with_shipment_and_events:
                return Response({"id": order.pk, "external_id": order.external_id}, status=201)
            if reserved:
                shipment = Shipment.objects.create(
                    order=order, location_id=next(iter(reserved.values())), fulfillment="own"
                )
                ShipmentLine.objects.bulk_create(
                    ShipmentLine(shipment=shipment, order_line=line, stock_item_id=row, quantity=quantity)
                    for line, (row, _, quantity) in zip(lines, wanted, strict=True)
                    if row in reserved
                )
            OrderEvent.objects.bulk_create(
                OrderEvent(order=order, type=kind, at=now, actor="system", data={})
                for kind in ("placed", "routed", "received")
            )
        return Response({"id": order.pk, "external_id": order.external_id}, status=201)


class LeanPlaceView(TunedPlaceView):
    """The tuned view writing only what the issue's raw SQL reference wrote: the customer, the order, its lines
    and the reservation (no shipment, no events)."""

    with_shipment_and_events = False


urlpatterns = [
    path("bench/validate/", ValidateOnlyView.as_view()),
    path("bench/default/", DefaultPlaceView.as_view()),
    path("bench/tuned/", TunedPlaceView.as_view()),
    path("bench/lean/", LeanPlaceView.as_view()),
    path("", include("config.urls")),
]
