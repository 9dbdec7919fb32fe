"""``python manage.py seed_demo``: a back office that looks like a real business on first start.

Idempotent: every row is looked up by a natural key first (user name, channel
code, location code, SKU, the (channel, external id) of an order), so a second
run creates nothing. Everything with rules goes through the services: stock is
received through ``inventory.services`` (so the ledger adds up), orders are
placed with ``orders.services.place_order``, shipped and delivered with
``orders.fulfilment``, cancelled with ``orders.services.cancel_order``.

History is backdated by moving the clock: while a step of the story runs,
``django.utils.timezone.now`` answers the simulated time, so the events,
movements and shipment stamps the services write all agree with ``placed_at``
(the KPIs read them). A fixed random seed makes the story the same every time.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from inventory.models import Location, Product, StockItem
from inventory.services import location_save, stock_receive
from orders import fulfilment, outbox, picking, services
from orders.models import Customer, Order, OrderEvent, Shipment

SEED = 20261126
DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105 - the documented demo login of `make run`
ACTOR = "system:seed_demo"
ORDER_COUNT = 250
HISTORY_DAYS = 90
FLOOR_STAGES = ("received", "picked", "packed", "shipped")
FLOOR_SCANS_DAYS = 10  # older own-warehouse shipments left without pick/pack scans (keeps the seed fast)
ORDERS_PER_TRANSACTION = 50

LOCATIONS = [
    {
        "code": "WH-EAST",
        "name": "East Coast DC (Newark)",
        "kind": Location.Kind.OWN,
        "priority": 1,
        "address_line1": "400 Doremus Ave",
        "city": "Newark",
        "region": "NJ",
        "postal_code": "07105",
        "country": "US",
        "latitude": Decimal("40.722000"),
        "longitude": Decimal("-74.142000"),
    },
    {
        "code": "WH-WEST",
        "name": "West Coast DC (Sparks)",
        "kind": Location.Kind.OWN,
        "priority": 2,
        "address_line1": "2000 E Greg St",
        "city": "Sparks",
        "region": "NV",
        "postal_code": "89431",
        "country": "US",
        "latitude": Decimal("39.524000"),
        "longitude": Decimal("-119.738000"),
    },
    {
        "code": "3PL-MEM",
        "name": "FlexLogix 3PL (Memphis)",
        "kind": Location.Kind.THIRD_PARTY,
        "priority": 5,
        "address_line1": "4700 Airways Blvd",
        "city": "Memphis",
        "region": "TN",
        "postal_code": "38116",
        "country": "US",
        "latitude": Decimal("35.040000"),
        "longitude": Decimal("-89.980000"),
    },
    {
        "code": "DROP-ACME",
        "name": "Acme Drinkware (dropship)",
        "kind": Location.Kind.DROPSHIP,
        "priority": 9,
        "address_line1": "88 Kiln Rd",
        "city": "Columbus",
        "region": "OH",
        "postal_code": "43215",
        "country": "US",
        "latitude": Decimal("39.961200"),
        "longitude": Decimal("-82.998800"),
    },
]

# Sales channels live in channels_app, a layer above orders: this command reaches them the
# way a user would (the ``create_channel`` command) and through the app registry, never by import.
WEB_STORE, MARKETPLACE, PHONE, WHOLESALE = "web_store", "marketplace", "phone", "wholesale"
# code, name, kind, currency, locations served, external id prefix, share of orders
CHANNELS = [
    ("webstore", "Web store", WEB_STORE, "USD", ["WH-EAST", "WH-WEST", "DROP-ACME"], "WEB", 50),
    ("amazon", "Amazon Marketplace", MARKETPLACE, "USD", ["WH-WEST", "3PL-MEM"], "AMZ", 30),
    ("phone", "Phone orders", PHONE, "USD", ["WH-EAST"], "PH", 10),
    ("wholesale", "Wholesale (B2B)", WHOLESALE, "USD", ["WH-EAST", "WH-WEST"], "WS", 8),
]


@dataclass(frozen=True)
class Family:
    prefix: str
    name: str
    variants: list[str]
    price: str
    cost: str
    grams: int
    aisle: str
    scarce: bool = False  # little stock: orders for it are backordered
    dropship: bool = False  # the supplier ships it


def _variants(*axes: list[str]) -> list[str]:
    out = [""]
    for axis in axes:
        out = [f"{a}-{b}" if a else b for a in out for b in axis]
    return out


FAMILIES = [
    Family(
        "TEE", "Tee", _variants(["RED", "BLUE", "BLACK", "WHITE"], ["S", "M", "L", "XL"]), "19.90", "6.50", 180, "A"
    ),
    Family("HOODIE", "Hoodie", _variants(["GREY", "NAVY", "BLACK"], ["S", "M", "L"]), "49.00", "18.00", 600, "B"),
    Family("HOODIE", "Hoodie", _variants(["GREY", "NAVY"], ["XL"]), "49.00", "18.00", 650, "B"),
    Family("HOODIE", "Hoodie", ["BLACK-XL"], "49.00", "18.00", 650, "B", scarce=True),
    Family("CAP", "Cap", ["BLACK", "KHAKI", "NAVY"], "24.00", "7.00", 120, "C"),
    Family("BEANIE", "Beanie", ["GREY", "RED"], "18.00", "5.00", 90, "C"),
    Family("SOCKS", "Socks", _variants(["STRIPE", "SOLID"], ["S", "M", "L"]), "9.50", "2.20", 60, "D"),
    Family("TOTE", "Tote bag", ["NATURAL", "BLACK"], "16.00", "4.50", 150, "E"),
    Family("NOTEBOOK", "Notebook", ["A5", "A4"], "12.00", "3.10", 250, "E"),
    Family("POSTER", "Poster", ["A3"], "15.00", "2.00", 100, "F"),
    Family("POSTER", "Poster", ["A2"], "22.00", "3.00", 140, "F", scarce=True),
    Family("STICKER", "Sticker pack", ["PACK"], "5.00", "0.80", 20, "F"),
    Family("MUG", "Mug", ["CLASSIC", "TRAVEL", "ESPRESSO", "XL"], "14.00", "4.00", 350, "G", dropship=True),
    Family("BOTTLE", "Bottle", ["500", "750", "1000"], "29.00", "9.00", 300, "G", dropship=True),
]

FIRST_NAMES = "Ana Ben Carla Dev Elena Felix Grace Hugo Iris Jonas Kira Leo Maya Noah Olga Pablo Quinn Rosa Sam Tara"
LAST_NAMES = "Silva Meyer Okafor Patel Novak Rossi Kim Larsen Haddad Walsh Moreau Tanaka Costa Brown Ivanova"
COMPANIES = [
    ("Brightside Outfitters", "buying@brightside.example"),
    ("Harbor & Pine Co.", "orders@harborpine.example"),
    ("Campus Store Collective", "purchasing@campusstore.example"),
    ("Trailhead Supply", "ap@trailhead.example"),
    ("Northwind Retail", "procurement@northwind.example"),
    ("Uptown Gift Shop", "owner@uptowngifts.example"),
]
ADDRESSES = [
    ("Springfield", "IL", "62701", "US"),
    ("Austin", "TX", "78701", "US"),
    ("Portland", "OR", "97205", "US"),
    ("Denver", "CO", "80202", "US"),
    ("Brooklyn", "NY", "11201", "US"),
    ("Atlanta", "GA", "30303", "US"),
    ("Seattle", "WA", "98101", "US"),
    ("Chicago", "IL", "60601", "US"),
    ("Boston", "MA", "02108", "US"),
    ("Phoenix", "AZ", "85004", "US"),
    ("Miami", "FL", "33130", "US"),
    ("Toronto", "ON", "M5H 2N2", "CA"),
    ("London", "", "SW1A 1AA", "GB"),
]
STREETS = ["Main St", "Oak Ave", "Maple Dr", "Pine St", "Cedar Ln", "Elm St", "Lakeview Rd", "Market St"]
CARRIERS = [("ups", "1Z"), ("fedex", "7"), ("usps", "94"), ("dhl", "JD")]


# --- The story, drawn up front from the seed so it is the same on every run ----------------------------------------


@dataclass
class OrderPlan:
    channel: str
    external_id: str
    placed_at: datetime
    customer: services.CustomerInput
    address: services.AddressInput
    lines: list[tuple[str, int]]
    payment_status: str
    promised: int  # days after placement
    cancel_after: timedelta | None = None  # the customer changes their mind
    floor_hours: list[float] = field(default_factory=list)  # pick, pack, ship delays
    transit_days: float = 3.0
    lost: bool = False  # shipped, never confirmed delivered
    stage: str | None = None  # recent orders: where the floor has got to with them


def _products() -> list[tuple[Family, str]]:
    return [(fam, f"{fam.prefix}-{variant}") for fam in FAMILIES for variant in fam.variants]


def _plan_orders(rng: random.Random, now: datetime) -> list[OrderPlan]:
    skus = [(fam, sku) for fam, sku in _products()]
    firsts, lasts = FIRST_NAMES.split(), LAST_NAMES.split()
    consumers = [(first, last) for first in firsts for last in lasts]
    rng.shuffle(consumers)
    consumers = consumers[:140]
    weights = [c[6] for c in CHANNELS]
    drafts = []
    for _ in range(ORDER_COUNT):
        channel = rng.choices(CHANNELS, weights)[0]
        # More orders lately (a growing business), and a busy last day and a half on the floor.
        days_ago = rng.uniform(0, 1.5) if rng.random() < 0.12 else HISTORY_DAYS * rng.random() ** 1.5
        placed_at = (now - timedelta(days=days_ago)).replace(second=0, microsecond=0)
        drafts.append((placed_at, channel))
    drafts.sort(key=lambda d: d[0])

    counters: Counter[str] = Counter()
    plans = []
    for placed_at, (code, _n, kind, _c, _l, prefix, _w) in drafts:
        counters[code] += 1
        # "DEMO-" keeps the seed clear of API.md's examples (WEB-10023 must place a new order).
        external_id = f"DEMO-{prefix}-{10000 + counters[code]}"
        city, region, postal, country = rng.choice(ADDRESSES)
        street = f"{rng.randint(1, 999)} {rng.choice(STREETS)}"
        if kind == WHOLESALE:
            company, email = rng.choice(COMPANIES)
            customer = services.CustomerInput(email=email, name=company, kind=Customer.Kind.BUSINESS)
            ship_name = company
            picks = rng.sample([s for s in skus if not (s[0].dropship or s[0].scarce)], rng.randint(2, 4))
            lines = [(sku, rng.randint(1, 4) * 5) for _fam, sku in picks]
        else:
            first, last = rng.choice(consumers)
            customer = services.CustomerInput(
                email=f"{first}.{last}@example.com".lower(),
                name=f"{first} {last}",
                phone=f"+1 555 01{rng.randint(0, 99):02d}",
            )
            ship_name = customer.name
            listed = [s for s in skus if not s[0].dropship] if kind == MARKETPLACE else skus
            picks = rng.sample(listed, rng.choices([1, 2, 3, 4], [50, 30, 15, 5])[0])
            lines = [(sku, rng.choices([1, 2, 3], [75, 20, 5])[0]) for _fam, sku in picks]
        age = now - placed_at
        pending_payment = kind in (WEB_STORE, PHONE) and age < timedelta(days=5) and rng.random() < 0.2
        plan = OrderPlan(
            channel=code,
            external_id=external_id,
            placed_at=placed_at,
            customer=customer,
            address=services.AddressInput(
                name=ship_name, line1=street, city=city, region=region, postal_code=postal, country=country
            ),
            lines=lines,
            payment_status=Order.PaymentStatus.PENDING if pending_payment else Order.PaymentStatus.PAID,
            promised=rng.choice([3, 4, 5, 7]) if kind != WHOLESALE else 14,
            floor_hours=[rng.uniform(1, 18), rng.uniform(0.5, 6), rng.uniform(0.5, 8)],
            transit_days=rng.uniform(1, 6),
            lost=rng.random() < 0.03,
        )
        if rng.random() < 0.05:
            plan.cancel_after = timedelta(hours=rng.uniform(0.5, 20))
        stage = rng.choice(FLOOR_STAGES)
        if age < timedelta(hours=36):
            # Today's work in progress: the floor has got this far with it, in the time since it came in.
            hours = age.total_seconds() / 3600
            plan.stage, plan.floor_hours = stage, [hours * 0.3, hours * 0.2, hours * 0.2]
        plans.append(plan)
    return plans


# --- Running it through the services --------------------------------------------------------------------------------


@contextlib.contextmanager
def clock(at: datetime):
    """Let the services believe it is ``at`` (see the module docstring)."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


@contextlib.contextmanager
def history_told():
    """The seeded past was told long ago: no e-mails, partner hand-offs or webhooks for it.

    Events the services write meanwhile are not queued for the outbox; their ids
    are collected so the caller stamps them dispatched (at the time they happened),
    and the outbox sweep never sends them either.
    """
    told: list[int] = []
    with (
        mock.patch.object(outbox, "enqueue_on_commit", lambda event: told.append(event.pk)),
        mock.patch.object(outbox, "enqueue_many_on_commit", lambda events: told.extend(e.pk for e in events)),
    ):
        yield told


class Command(BaseCommand):
    help = "Load demo data (channels, locations, products with stock, a few hundred orders). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=ORDER_COUNT, help="How many orders (default %(default)s).")

    def handle(self, *args, orders: int, **options):
        rng = random.Random(SEED)
        now = timezone.now()
        self.created: Counter[str] = Counter()
        # A few big transactions instead of one commit per write: SQLite's fsync per
        # commit would otherwise dominate. Each service still runs its own (nested) atomic.
        with transaction.atomic():
            self._user()
            channels, fresh = self._channels()
            locations = self._locations(channels, fresh)
            self._products(rng, locations, start=now - timedelta(days=HISTORY_DAYS + 5))
            self._wholesale_terms(channels["wholesale"])
        plans = _plan_orders(rng, now)[:orders]
        for start in range(0, len(plans), ORDERS_PER_TRANSACTION):
            with transaction.atomic(), history_told() as told:
                self._orders(plans[start : start + ORDERS_PER_TRANSACTION], channels, now)
                OrderEvent.objects.filter(pk__in=told).update(dispatched_at=F("at"))
        self._report()

    # users ---------------------------------------------------------------------------------------------------------

    def _user(self):
        User = get_user_model()
        if not User.objects.filter(username=DEMO_USERNAME).exists():
            User.objects.create_superuser(DEMO_USERNAME, "admin@example.com", DEMO_PASSWORD)
            self.created["users"] += 1
        self.stdout.write(f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}")

    # where stock is and who sells it -------------------------------------------------------------------------------

    def _channels(self) -> tuple[dict, set[str]]:
        SalesChannel = apps.get_model("channels_app", "SalesChannel")
        found = {ch.code: ch for ch in SalesChannel.objects.filter(code__in=[c[0] for c in CHANNELS])}
        fresh = set()
        for code, name, kind, currency, _served, _prefix, _w in CHANNELS:
            if code in found:
                continue
            out = StringIO()
            call_command("create_channel", code, name=name, kind=kind, currency=currency, stdout=out)
            raw_key = out.getvalue().split()[-1]  # the command prints the key last
            found[code] = SalesChannel.objects.get(code=code)
            fresh.add(code)
            self.created["channels"] += 1
            self.stdout.write(f"Channel {code}: API key {raw_key}  (shown once)")
        return found, fresh

    def _wholesale_terms(self, wholesale) -> None:
        """The B2B channel's price list (15% off the catalogue, 20% from 20 units) and net 30 terms."""
        PriceList = apps.get_model("channels_app", "PriceList")
        PriceListItem = apps.get_model("channels_app", "PriceListItem")
        plist, made = PriceList.objects.get_or_create(
            code="wholesale", defaults={"name": "Wholesale (B2B)", "currency": wholesale.currency}
        )
        if made:
            self.created["price lists"] += 1
            PriceListItem.objects.bulk_create(
                PriceListItem(price_list=plist, product=product, min_quantity=min_quantity, unit_price=price)
                for product in Product.objects.order_by("pk")
                for min_quantity, share in ((1, Decimal("0.85")), (20, Decimal("0.80")))
                for price in [(product.price * share).quantize(Decimal("0.01"))]
            )
        if wholesale.price_list_id is None or wholesale.payment_terms_days is None:
            wholesale.price_list, wholesale.payment_terms_days = plist, 30
            wholesale.save(update_fields=["price_list", "payment_terms_days"])

    def _locations(self, channels: dict, fresh: set[str]) -> dict[str, Location]:
        """Each location with the channels it serves (``location_save`` sets them)."""
        found = {loc.code: loc for loc in Location.objects.filter(code__in=[spec["code"] for spec in LOCATIONS])}
        for spec in LOCATIONS:
            code = spec["code"]
            served_by = [c[0] for c in CHANNELS if code in c[4]]
            if code not in found:
                fields = {k: v for k, v in spec.items() if k != "code"}
                channel_objs = [channels[c] for c in served_by]
                found[code] = location_save(location=Location(code=code), fields=fields, channels=channel_objs)
                self.created["locations"] += 1
            elif fresh.intersection(served_by):  # a channel made this run, at a location made before
                current = list(found[code].channels.all())
                added = [channels[c] for c in served_by if c in fresh]
                location_save(location=found[code], fields={}, channels=current + added)
        return found

    def _products(self, rng: random.Random, locations: dict[str, Location], start: datetime):
        existing = set(Product.objects.values_list("sku", flat=True))
        stocked = set(StockItem.objects.values_list("product__sku", "location__code"))
        for n, (fam, sku) in enumerate(_products()):
            # Draw every number whether or not the row exists, so the story never shifts.
            variant = sku.removeprefix(fam.prefix + "-").replace("-", " ").title()
            barcode = f"0{860000000000 + n * 7919:012d}"[:13]
            quantities = self._opening_stock(rng, fam)
            bins = {code: f"{fam.aisle}-{rng.randint(1, 24):02d}-{rng.randint(1, 5)}" for code in quantities}
            received = {code: start + timedelta(hours=rng.uniform(0, 48)) for code in quantities}
            if sku not in existing:
                with clock(start):
                    Product.objects.create(
                        sku=sku,
                        name=f"{fam.name} {variant}",
                        barcode=barcode,
                        weight_grams=fam.grams,
                        price=Decimal(fam.price),
                        cost=Decimal(fam.cost),
                    )
                self.created["products"] += 1
            product = None
            for code, quantity in quantities.items():
                if (sku, code) in stocked or not quantity:
                    continue
                product = product or Product.objects.get(sku=sku)
                with clock(received[code]):
                    stock_receive(
                        product=product,
                        location=locations[code],
                        quantity=quantity,
                        reference="opening-stock",
                        actor=ACTOR,
                        reason="Opening stock",
                    )
                if locations[code].kind != Location.Kind.DROPSHIP:
                    StockItem.objects.filter(product=product, location=locations[code]).update(
                        bin=bins[code], reorder_point=max(quantity // 5, 2), reorder_quantity=max(quantity // 2, 10)
                    )
                self.created["stock rows"] += 1

    @staticmethod
    def _opening_stock(rng: random.Random, fam: Family) -> dict[str, int]:
        if fam.scarce:
            return {"WH-EAST": rng.randint(2, 4), "WH-WEST": 0, "3PL-MEM": 0}
        if fam.dropship:
            return {"DROP-ACME": rng.randint(300, 500), "WH-EAST": rng.randint(5, 15)}
        return {
            "WH-EAST": rng.randint(60, 160),
            "WH-WEST": rng.randint(20, 80),
            "3PL-MEM": rng.choice([0, 0, rng.randint(30, 90)]),
        }

    # orders --------------------------------------------------------------------------------------------------------

    def _orders(self, plans: list[OrderPlan], channels: dict, now: datetime):
        done = set(Order.objects.filter(channel__code__in=list(channels)).values_list("channel__code", "external_id"))
        for plan in plans:
            if (plan.channel, plan.external_id) in done:
                continue
            self._play(plan, channels[plan.channel], now)
            self.created["orders"] += 1

    def _play(self, plan: OrderPlan, channel, now: datetime):
        data = services.OrderInput(
            external_id=plan.external_id,
            customer=plan.customer,
            shipping_address=plan.address,
            lines=[services.LineInput(sku=sku, quantity=q) for sku, q in plan.lines],
            placed_at=plan.placed_at,
            shipping_method="ground" if channel.kind == WHOLESALE else "standard",
            payment_status=plan.payment_status,
            promised_delivery_date=(plan.placed_at + timedelta(days=plan.promised)).date(),
        )
        received_at = plan.placed_at + timedelta(minutes=2)
        with clock(received_at):
            order, _ = services.place_order(channel=channel, data=data, actor=f"channel:{channel.code}")
        if plan.cancel_after is not None and received_at + plan.cancel_after < now:
            with clock(received_at + plan.cancel_after):
                services.cancel_order(order=order, reason="customer request", actor="user:support")
            return
        if order.status not in (Order.Status.RECEIVED, Order.Status.BACKORDERED):
            return  # on hold: waits for a person
        if order.status == Order.Status.BACKORDERED:
            return  # waits for stock; its reserved part waits with it
        for n, shipment in enumerate(order.shipments.select_related("location").order_by("pk")):
            self._fulfil(plan, shipment, start=received_at + timedelta(hours=n * 0.5), now=now)

    def _fulfil(self, plan: OrderPlan, shipment: Shipment, *, start: datetime, now: datetime):
        """Own warehouse: pick, pack, ship; a partner ships straight from pending. Stop at ``now``."""
        pick_h, pack_h, ship_h = plan.floor_hours
        picked_at = start + timedelta(hours=pick_h)
        packed_at = picked_at + timedelta(hours=pack_h)
        shipped_at = packed_at + timedelta(hours=ship_h)
        own = shipment.fulfillment == Location.Kind.OWN
        if own and now - start < timedelta(days=FLOOR_SCANS_DAYS):
            floor = "user:picker"
            if picked_at >= now or plan.stage == "received":
                return
            with clock(picked_at - timedelta(minutes=20)):
                picking.shipment_start_picking(shipment=shipment, actor=floor)
            with clock(picked_at):
                picking.shipment_pick(shipment=shipment, lines=picking.expected_quantities(shipment), actor=floor)
            if packed_at >= now or plan.stage == "picked":
                return
            grams = sum(line.quantity * line.order_line.product.weight_grams for line in self._lines(shipment))
            with clock(packed_at):
                fulfilment.shipment_pack(
                    shipment=shipment,
                    weight_grams=grams + 150,
                    length_mm=300,
                    width_mm=220,
                    height_mm=120,
                    actor="user:packer",
                )
        if shipped_at >= now or plan.stage in ("received", "picked", "packed"):
            return
        carrier, prefix = CARRIERS[shipment.pk % len(CARRIERS)]
        with clock(shipped_at):
            fulfilment.shipment_ship(
                shipment=shipment,
                carrier=carrier,
                tracking_number=f"{prefix}{shipment.pk * 7919 + 100000:010d}",
                actor="user:shipping" if own else f"partner:{shipment.location.code}",
            )
        delivered_at = shipped_at + timedelta(days=plan.transit_days)
        if plan.lost or plan.stage or delivered_at >= now:
            return
        with clock(delivered_at):
            fulfilment.shipment_deliver(shipment=shipment, actor="carrier", delivered_at=delivered_at)

    @staticmethod
    def _lines(shipment: Shipment):
        return shipment.lines.select_related("order_line__product")

    # --------------------------------------------------------------------------------------------------------------

    def _report(self):
        if self.created:
            made = ", ".join(f"{n} {what}" for what, n in self.created.items())
            self.stdout.write(self.style.SUCCESS(f"Created {made}."))
        else:
            self.stdout.write("Demo data already present; nothing created.")
        counts = Order.objects.values_list("status").annotate(n=Count("pk")).order_by("status")
        self.stdout.write("Orders by status: " + ", ".join(f"{status}={n}" for status, n in counts))
