"""``make bench``: measure against this machine's own limits and print ratios to same-run baselines.

Needs PostgreSQL from ``DATABASE_URL`` (a database named ``<name>_bench`` is
recreated beside it) and ``wrk`` (Debian package ``wrk``). Writes the table to
``tests/benchmarks/RESULTS.md``. Never part of ``make test``.

Environment: ``BENCH_SECONDS`` (30) per load run, ``BENCH_ORDERS`` (1000000)
rows for the big-table figures, ``BENCH_CHANNELS`` (50) keys placing and reading
at once for ``BENCH_LOAD_SECONDS`` (twice BENCH_SECONDS), ``BENCH_ONLY`` (comma-separated section names,
e.g. ``intake,oversell``; default all) to iterate on one figure. A run limited
by ``BENCH_ONLY`` says so in RESULTS.md.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "30"))
BIG = int(os.environ.get("BENCH_ORDERS", "1000000"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", "4"))  # the Procfile's default
SECTIONS = ("intake", "channels", "oversell", "order_list", "big_tables", "import", "picklist", "kpis")
CHANNELS = int(os.environ.get("BENCH_CHANNELS", "50"))
LOAD_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", str(2 * SECONDS)))  # the channels load: 60 s by default
ONLY = [s.strip() for s in os.environ.get("BENCH_ONLY", "").split(",") if s.strip()]


def wanted(section: str) -> bool:
    return not ONLY or section in ONLY


@dataclass
class Row:
    figure: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    goal: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> str:
        if not self.baseline:
            return ""
        return f"{self.value / self.baseline:.2f}"


def fail(msg: str) -> None:
    print(f"make bench: {msg}", file=sys.stderr)
    sys.exit(2)


def bench_dsn(suffix: str = "bench") -> str:
    """DATABASE_URL with ``_<suffix>`` after its database's name: the database a benchmark or tool recreates."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        fail("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms")
    parts = urlparse(url)
    name = f"{parts.path.lstrip('/') or 'oms'}_{suffix}"
    return urlunparse(parts._replace(path=f"/{name}"))


def recreate_database(dsn: str) -> None:
    import psycopg

    parts = urlparse(dsn)
    admin = urlunparse(parts._replace(path="/postgres"))
    name = parts.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def forget_queued_work() -> None:
    """Drop the Celery messages and the outbox drain's list a run left for nobody (``REDIS_URL`` set)."""
    from config.celery import app
    from orders import outbox

    app.control.purge()
    listed = outbox.drain_list()
    if listed is not None:
        listed.delete(outbox.PENDING_KEY, outbox.DRAIN_QUEUED_KEY)


def django_env(dsn: str) -> dict:
    """As production runs: with REDIS_URL set, after-commit work (outbox, webhooks) goes to a
    Celery worker started beside gunicorn; without it, tasks run eagerly inside the request."""
    return {**os.environ, "DATABASE_URL": dsn, "DJANGO_SETTINGS_MODULE": "tests.benchmarks.settings"}


def setup_django(dsn: str) -> None:
    os.environ.update(django_env(dsn))
    import django

    django.setup()


def seed(skus: int = 30) -> dict:
    from django.contrib.auth import get_user_model

    from channels_app.services import channel_create
    from inventory.apikeys import staff_token_create
    from inventory.models import Location, Product, StockItem
    from inventory.services import stock_receive

    channel, key = channel_create(code="bench", name="Bench", kind="web_store")
    location = Location.objects.create(code="BENCH", name="Bench DC", kind="own", priority=1, country="US")
    channel.locations.add(location)
    for i in range(1, skus + 1):
        product = Product.objects.create(sku=f"BENCH-{i:03d}", name=f"Bench {i}", price="19.90", cost="8.00")
        stock_receive(product=product, location=location, quantity=10_000_000, reference="bench", actor="bench")
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-1")
    token = staff_token_create(user=user)[1]
    stock = list(StockItem.objects.filter(location=location).order_by("pk").values_list("product_id", "pk"))
    return {"channel_id": channel.pk, "key": key, "token": token, "stock": stock}


class Gunicorn:
    def __init__(self, dsn: str):
        self.env = django_env(dsn)

    def __enter__(self):
        cmd = [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, start_new_session=True)
        self.worker = None
        if self.env.get("REDIS_URL"):
            worker = [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "-c", "1", "-l", "warning"]
            self.worker = subprocess.Popen(worker, cwd=ROOT, env=self.env, start_new_session=True)
        # The master binds the port before its workers have imported Django: wait for HTTP answers,
        # several in a row, so no load run starts against workers still booting.
        deadline = time.monotonic() + 120
        answered = 0
        while time.monotonic() < deadline and answered < 2 * WORKERS:
            try:
                with socket.create_connection(("127.0.0.1", PORT), timeout=5) as conn:
                    conn.sendall(b"GET /bench/validate/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                    answered += conn.recv(12).startswith(b"HTTP/")
            except OSError:
                answered = 0
                time.sleep(0.2)
        if answered >= 2 * WORKERS:
            return self
        self.__exit__()
        fail("gunicorn did not start")

    def __exit__(self, *exc):
        for proc in (self.proc, self.worker):
            if proc is not None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=60)


def wrk(*, connections: int, seconds: int, script: Path | None, env: dict, path: str = "/", headers=()) -> dict:
    cmd = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", str(script)]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(f"http://127.0.0.1:{PORT}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env}, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"), "errors": errors, "requests": requests, "out": out}


def not_placed(run: str, got: dict, connections: int) -> int:
    """Answers of a load run (``RUN`` prefixing its external ids) that were 2xx without placing an order: a
    replay answers 200 from the stored order, so a load sending one external id twice measures replays.
    (Up to one request per connection may be placed after wrk stopped counting.)"""
    from orders.models import Order

    placed = Order.objects.filter(external_id__startswith=f"{run}-").count()
    missing = got["requests"] - got["errors"] - placed
    return missing if missing > connections else 0


def cpu_seconds(server: Gunicorn) -> dict[str, float]:
    """CPU time so far of the processes that serve the load, by kind: gunicorn (its session),
    the Celery worker (its session) and PostgreSQL, from /proc."""
    return process_cpu_seconds(web=server.proc.pid, worker=server.worker.pid if server.worker else None)


def backend_cpu_seconds(database: str) -> float:
    """CPU seconds so far of the live PostgreSQL backends connected to ``database`` (not the other
    databases' work on a shared machine; a backend that exited is not counted)."""
    tick, spent = os.sysconf("SC_CLK_TCK"), 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            title = Path(entry.path, "cmdline").read_bytes().split(b"\0")[0].decode()
            if not title.startswith("postgres:") or f" {database} " not in title:
                continue
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        rest = raw[raw.rindex(")") + 2 :].split()
        spent += (int(rest[11]) + int(rest[12])) / tick
    return spent


def process_cpu_seconds(*, web: int | None = None, worker: int | None = None) -> dict[str, float]:
    """CPU seconds by kind: the sessions led by ``web`` and ``worker``, and every ``postgres`` process.

    PostgreSQL counts its exited processes too (a backend whose connection closed, an autovacuum
    worker): the postmaster's ``cutime``/``cstime`` hold what its reaped children used.
    """
    tick = os.sysconf("SC_CLK_TCK")
    spent = {"web": 0.0, "worker": 0.0, "postgres": 0.0}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        comm, rest = raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()
        session, used = int(rest[3]), (int(rest[11]) + int(rest[12])) / tick
        if web is not None and session == web:
            spent["web"] += used
        elif worker is not None and session == worker:
            spent["worker"] += used
        elif comm == "postgres":
            try:
                is_postmaster = Path(f"/proc/{rest[1]}/comm").read_text().strip() != "postgres"
            except OSError:
                is_postmaster = False
            reaped = (int(rest[13]) + int(rest[14])) / tick if is_postmaster else 0.0
            spent["postgres"] += used + reaped
    return spent


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))  # each intake load's SECONDS, cut in this many interleaved rounds


def interleaved(server: Gunicorn, script: Path, *, connections: int, baseline: dict, orders: dict):
    """The validate-only baseline and the orders, each for SECONDS in all, in ROUNDS rounds taken in turn
    (baseline, orders, orders, baseline, baseline, orders...): this VM's speed drifts by 20-40% from one
    half-minute to the next, and taken in turn each load meets the same drift. Rates are requests over the
    time wrk ran; p50 and p99 the median of the rounds'. After each orders round the Celery worker is given
    time to send that round's events, so their cost falls on the orders (the CPU counted), not on the
    baseline's next round. Returns the baseline's and the orders' figures and the CPU the orders used."""
    seconds = max(1, SECONDS // ROUNDS)
    runs: dict[str, list[dict]] = {"baseline": [], "orders": []}
    spent = {"web": 0.0, "worker": 0.0, "postgres": 0.0}
    for n in range(ROUNDS):
        for kind in ("baseline", "orders") if n % 2 == 0 else ("orders", "baseline"):
            if kind == "baseline":
                runs[kind].append(wrk(connections=connections, seconds=seconds, script=script, env=baseline))
                continue
            before = cpu_seconds(server)
            env = {**orders, "RUN": f"{orders['RUN']}-r{n}"}  # wrk counts from 0 again: new external ids
            runs[kind].append(wrk(connections=connections, seconds=seconds, script=script, env=env))
            time.sleep(3)  # the worker sends the round's events (a drain gathers for a second)
            for k, v in cpu_seconds(server).items():
                spent[k] += v - before[k]
    return _combined(runs["baseline"]), _combined(runs["orders"]), spent


def _combined(runs: list[dict]) -> dict:
    requests = sum(r["requests"] for r in runs)
    elapsed = sum(r["requests"] / r["rps"] for r in runs if r["rps"])  # as wrk timed each round
    return {
        "rps": requests / elapsed if elapsed else 0.0,
        "p50": statistics.median(r["p50"] or 0 for r in runs),
        "p99": statistics.median(r["p99"] or 0 for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "requests": requests,
    }


def bench_intake(dsn: str, data: dict, rows: list[Row]) -> None:
    from tests.benchmarks import raw_intake

    script = HERE / "intake.lua"
    with Gunicorn(dsn) as server:
        paths = ("/bench/validate/", "/api/v1/orders/", "/bench/default/", "/bench/tuned/", "/bench/lean/")
        for target in paths:  # warm every worker on each path
            wrk(
                connections=WORKERS,
                seconds=2,
                script=script,
                env={"KEY": data["key"], "RUN": "warm", "TARGET_PATH": target},
            )
        for c in (1, 4, 16):
            base_env = {"KEY": data["key"], "RUN": f"v{c}", "TARGET_PATH": "/bench/validate/"}
            env = {"KEY": data["key"], "RUN": f"o{c}-{time.time_ns()}", "TARGET_PATH": "/api/v1/orders/"}
            ceiling, got, spent = interleaved(server, script, connections=c, baseline=base_env, orders=env)
            got["errors"] += not_placed(env["RUN"], got, c)
            goal = ">= 0.40 of validate-only, 0 errors" if c == 4 else ""
            met = (got["rps"] >= 0.4 * ceiling["rps"] and got["errors"] == 0) if c == 4 else None
            figure = f"API intake, {c} clients (orders/s)"
            rows.append(Row(figure, got["rps"], "orders/s", ceiling["rps"], "validate-only DRF", goal, met))
            rows.append(Row(f"API intake, {c} clients p50 / p99 (ms)", got["p50"] or 0, f"ms (p99 {got['p99']:.1f})"))
            placed = got["requests"]
            if c == 4 and placed:  # where the CPU goes: the goal needs less of it per order, wherever it is spent
                per_order = ", ".join(f"{kind} {1000 * used / placed:.1f}" for kind, used in spent.items())
                total = 1000 * sum(spent.values()) / placed
                rows.append(Row("API intake, 4 clients: CPU per order (ms)", total, f"ms ({per_order})"))
            if got["errors"] or ceiling["errors"]:
                rows.append(Row(f"API intake, {c} clients errors", got["errors"], "responses", ceiling["errors"]))
            if c == 4:  # issue 8's reference point: the same order placed the way a team writes it by default
                env = {"KEY": data["key"], "RUN": f"d{c}-{time.time_ns()}", "TARGET_PATH": "/bench/default/"}
                default = wrk(connections=c, seconds=SECONDS, script=script, env=env)
                default["errors"] += not_placed(env["RUN"], default, c)
                figure = "API intake, 4 clients vs the default implementation (orders/s)"
                beats = got["rps"] > 2 * default["rps"]  # the goal's other half: "more than 2x the default"
                rows.append(Row(figure, got["rps"], "orders/s", default["rps"], "ORM + DRF, no rules", "> 2x", beats))
                if default["errors"]:
                    rows.append(Row("API intake, default implementation errors", default["errors"], "responses"))
                # and issue 8's "tuned Django view": bulk inserts, none of the product's rules; with raw psycopg's
                # rows, and lean (the customer, the order, its lines and the reservation only)
                for name, path in (("tuned", "/bench/tuned/"), ("lean", "/bench/lean/")):
                    env = {"KEY": data["key"], "RUN": f"{name}{c}-{time.time_ns()}", "TARGET_PATH": path}
                    tuned = wrk(connections=c, seconds=SECONDS, script=script, env=env)
                    tuned["errors"] += not_placed(env["RUN"], tuned, c)
                    what = "raw psycopg's rows" if name == "tuned" else "order, lines and reservation only"
                    figure = f"Tuned Django view ({what}), 4 clients (orders/s)"
                    rows.append(Row(figure, tuned["rps"], "orders/s", ceiling["rps"], "validate-only DRF", "report"))
                    figure = f"API intake, 4 clients vs the tuned Django view ({what}) (orders/s)"
                    rows.append(Row(figure, got["rps"], "orders/s", tuned["rps"], "that tuned view", "report"))
                    if tuned["errors"]:
                        rows.append(Row(f"API intake, tuned view ({name}) errors", tuned["errors"], "responses"))
    raw = raw_intake.run(dsn=dsn, channel_id=data["channel_id"], stock=data["stock"], seconds=SECONDS, connections=4)
    intake4 = next(r for r in rows if r.figure.startswith("API intake, 4 clients (orders/s)"))
    figure = "API intake, 4 clients vs raw psycopg (orders/s)"
    rows.append(Row(figure, intake4.value, "orders/s", raw, "raw psycopg x4"))


def bench_channels(dsn: str, data: dict, rows: list[Row]) -> None:
    """Issue 9 point 5: CHANNELS channels at once, each with its own key, placing orders and reading them back."""
    from channels_app.models import SalesChannel
    from channels_app.services import channel_create
    from inventory.models import Location

    location = Location.objects.get(code="BENCH")
    keys = []
    for i in range(CHANNELS):
        channel, key = channel_create(code=f"load{i:02d}", name=f"Load {i}", kind="web_store")
        channel.locations.add(location)
        keys.append(key)
    env = {"KEYS": ",".join(keys), "RUN": f"load-{time.time_ns()}"}
    with Gunicorn(dsn):
        wrk(connections=CHANNELS, seconds=3, script=HERE / "channels.lua", env={**env, "RUN": f"{env['RUN']}-warm"})
        got = wrk(connections=CHANNELS, seconds=LOAD_SECONDS, script=HERE / "channels.lua", env=env)
    done = re.search(r"load: writes (\d+) reads (\d+)", got["out"])
    writes, reads = (int(done.group(1)), int(done.group(2))) if done else (0, 0)
    placed = SalesChannel.objects.filter(code__startswith="load", orders__isnull=False).distinct().count()
    from orders.models import Order

    orders = Order.objects.filter(external_id__startswith=f"{env['RUN']}-").exclude(external_id__contains="-warm-")
    if writes - orders.count() > CHANNELS:  # answered without placing: the load sent an external id twice
        got["errors"] += writes - orders.count()
    figure = f"{CHANNELS} channels placing and reading, {CHANNELS} clients, {LOAD_SECONDS} s (req/s)"
    unit = f"req/s ({writes} orders, {reads} reads; {placed} channels placed)"
    goal = "0 errors, every channel placed"
    rows.append(Row(figure, got["rps"], unit, None, "", goal, got["errors"] == 0 and placed == CHANNELS))
    rows.append(
        Row(f"{CHANNELS} channels p99 latency (ms)", got["p99"] or 0, f"ms (p50 {got['p50'] or 0:.1f})", goal="report")
    )
    rows.append(Row(f"{CHANNELS} channels errors", got["errors"], "responses", None, "", "0", got["errors"] == 0))


def bench_oversell(rows: list[Row]) -> None:
    from django.db.models import F, OuterRef, Subquery, Sum

    from inventory.models import StockItem, StockMovement

    oversold = StockItem.objects.filter(reserved__gt=F("on_hand")).count()
    ledger = StockMovement.objects.filter(stock_item=OuterRef("pk")).values("stock_item").annotate(s=Sum("quantity"))
    drifted = StockItem.objects.annotate(ledger=Subquery(ledger.values("s"))).exclude(ledger=F("on_hand")).count()
    rows.append(Row("Oversold stock rows after the load", oversold, "rows", None, "", "0", oversold == 0))
    rows.append(Row("Stock rows whose ledger sum differs from on hand", drifted, "rows", None, "", "0", drifted == 0))


def bench_order_list(dsn: str, data: dict, rows: list[Row]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from orders.models import Order
    from tests.benchmarks.profile_intake import body

    channel = APIClient()  # run alone (BENCH_ONLY=order_list), no intake placed the pages' orders: place them
    channel.credentials(HTTP_AUTHORIZATION=f"Token {data['key']}")
    for n in range(Order.objects.count(), 300):
        placed = channel.post("/api/v1/orders/", body(n), content_type="application/json")
        assert placed.status_code == 201, placed.content[:300]
    if os.environ.get("REDIS_URL"):
        forget_queued_work()  # their outbox work would load the worker during the measurement
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {data['token']}")
    counts = {}
    client.get("/api/v1/orders/?page_size=1")  # a token's first request of the minute stamps its last use
    for size in (10, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/v1/orders/?page_size={size}")
        assert response.status_code == 200, response.content[:300]
        counts[size] = len(ctx.captured_queries)
    rows.append(
        Row(
            "Order list page_size=100: queries per page",
            counts[100],
            "queries",
            counts[10],
            "page_size=10",
            "<= 6, same for any size",
            counts[100] <= 6 and counts[100] == counts[10],
        )
    )
    with Gunicorn(dsn):
        got = wrk(
            connections=1,
            seconds=max(5, SECONDS // 3),
            script=None,
            env={},
            path="/api/v1/orders/?page_size=100",
            headers=[f"Authorization: Token {data['token']}"],
        )
    rows.append(Row("Order list page_size=100 p50 (ms)", got["p50"] or 0, f"ms (p99 {got['p99']:.1f})"))


def bench_big_tables(dsn: str, data: dict, rows: list[Row]) -> None:
    """The admin order changelist over BIG orders (COPY-loaded)."""
    import statistics

    import psycopg
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from inventory.models import Product
    from tests.benchmarks import bulk_rows

    products = list(Product.objects.order_by("pk").values_list("pk", "sku"))
    copy_rate = bulk_rows.copy_orders(
        dsn=dsn, count=BIG, channel_id=data["channel_id"], products=products, prefix="bulk"
    )
    rows.append(Row(f"COPY of {BIG} orders x 3 lines (orders/s)", copy_rate, "orders/s"))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE orders_order")
        conn.execute("VACUUM ANALYZE orders_orderline")
        started = time.monotonic()
        for _ in range(5):
            conn.execute(
                "SELECT o.id FROM orders_order o JOIN orders_customer c ON c.id = o.customer_id "
                "ORDER BY o.placed_at DESC, o.id DESC LIMIT 100"
            ).fetchall()
        raw_page = (time.monotonic() - started) / 5 * 1000
    connection.close()
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    timings = []
    for _ in range(7):
        started = time.monotonic()
        response = client.get("/admin/orders/order/")
        timings.append((time.monotonic() - started) * 1000)
        assert response.status_code == 200, response.status_code
    p50 = statistics.median(timings)
    rows.append(
        Row(
            f"Admin order changelist, {BIG} orders, p50 (ms)",
            p50,
            "ms",
            raw_page,
            "raw SQL page of 100",
            "< 500 ms",
            p50 < 500,
        )
    )


def write_results(rows: list[Row]) -> str:
    head = "| figure | value | unit | baseline | baseline is | ratio | goal | met |\n" + "|---" * 8 + "|\n"
    body = ""
    for r in rows:
        base = f"{r.baseline:.1f}" if r.baseline is not None else ""
        met = "" if r.met is None else ("met" if r.met else "NOT met")
        cells = [r.figure, f"{r.value:.1f}", r.unit, base, r.baseline_name, r.ratio, r.goal, met]
        body += "| " + " | ".join(cells) + " |\n"
    machine = f"{platform.node()} · {platform.machine()} · {os.cpu_count()} cores · Python {platform.python_version()}"
    text = (
        f"# Benchmark results\n\nRun {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}; "
        f"{SECONDS} s per load run (the intake's validate-only baseline and orders interleaved, {ROUNDS} rounds "
        "each), "
        f"gunicorn {WORKERS} workers, PostgreSQL from DATABASE_URL, "
        f"{'a Celery worker on Redis' if os.environ.get('REDIS_URL') else 'tasks eager in the request'}"
        f"{'; only ' + ', '.join(ONLY) if ONLY else ''}; {BIG} orders for the big tables.\n"
        "Reproduce: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms REDIS_URL=redis://127.0.0.1:6379/5 "
        f"make bench`.\n\n{head}{body}"
    )
    (HERE / "RESULTS.md").write_text(text)
    return head + body


def run_section(name: str, section, rows: list[Row]) -> None:
    """Run one section; a crash is a NOT met row and the table so far is written, not lost."""
    import traceback

    try:
        section()
    except Exception as exc:
        traceback.print_exc()
        rows.append(Row(f"Section {name} crashed: {type(exc).__name__}", 0, "", None, "", "runs", False))
    write_results(rows)


def main() -> None:
    if not shutil.which("wrk"):
        fail("needs wrk (Debian: apt-get install wrk)")
    dsn = bench_dsn()
    recreate_database(dsn)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=django_env(dsn), check=True
    )
    setup_django(dsn)
    data = seed()
    rows: list[Row] = []
    unknown = set(ONLY) - set(SECTIONS)
    if unknown:
        fail(f"BENCH_ONLY: unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    for name, section in (
        ("intake", lambda: bench_intake(dsn, data, rows)),
        ("channels", lambda: bench_channels(dsn, data, rows)),
        ("oversell", lambda: bench_oversell(rows)),
        ("order_list", lambda: bench_order_list(dsn, data, rows)),
        ("big_tables", lambda: bench_big_tables(dsn, data, rows)),
    ):
        if wanted(name):
            run_section(name, section, rows)

    def bench_import_section():  # its outbox tasks must not load the workers of the sections above
        from tests.benchmarks import bench_import

        env = django_env(dsn)
        bench_import.run(dsn=dsn, env=env, root=ROOT, channel_id=data["channel_id"], rows=rows, row_type=Row)

    def bench_picklist_section():
        from tests.benchmarks import bench_picklist

        bench_picklist.run(token=data["token"], rows=rows, row_type=Row)

    def bench_kpis_section():  # its own database of BENCH_ORDERS orders, in a subprocess (bench_kpis.py)
        from tests.benchmarks import bench_kpis

        bench_kpis.run(rows=rows, row_type=Row)

    for name, section in (
        ("import", bench_import_section),
        ("picklist", bench_picklist_section),
        ("kpis", bench_kpis_section),
    ):
        if wanted(name):
            run_section(name, section, rows)
    print(write_results(rows))
    if any(r.met is False for r in rows):
        print("Some goals are not met (see the table).")


if __name__ == "__main__":
    main()
