"""Bulk import: ``import_orders`` of a generated CSV against COPY of the same rows, in the same run.

``import_orders`` runs as a subprocess (as an operator runs it), so its peak RSS
is its own (``os.wait4``). Two file sizes show whether memory stays flat
(streaming, a batch in memory at a time). The baseline is ``bulk_rows.copy_orders``:
COPY of the same number of 3-line orders into the same tables, no rules at all,
run before and after the imports (the mean: the machine's speed drifts). Each
timed run starts from a settled database (``settle``), so that no run pays for
the autovacuum and checkpoint the run before it set off.

Environment: ``BENCH_IMPORT_ORDERS`` (100000) orders in the big file (the small
one is a quarter), ``BENCH_IMPORT_BATCH`` (1000) orders per transaction.
With ``REDIS_URL`` set the batches' events are listed for the outbox drain in
Redis and forgotten after the run; without it they run eagerly inside the import.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ORDERS = int(os.environ.get("BENCH_IMPORT_ORDERS", "100000"))
BATCH = int(os.environ.get("BENCH_IMPORT_BATCH", "1000"))
QUANTITIES = (1, 2, 1)  # bulk_rows.copy_orders writes the same three lines


def write_orders_csv(path: Path, *, count: int, skus: list[str], prefix: str) -> int:
    """A CSV export of ``count`` 3-line orders (one row per line), written as it goes; returns its lines."""
    from channels_app.importers.parsers import CSV_COLUMNS

    lines = 0
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(CSV_COLUMNS)
        for i in range(count):
            external_id = f"{prefix}-{i}"
            email = f"{prefix.lower()}{i // 100}@example.com"  # one customer per 100 orders, as COPY's
            for k, quantity in enumerate(QUANTITIES):
                sku = skus[(i + k * 7) % len(skus)]
                out.writerow(
                    (external_id, "2026-11-20T14:03:00Z", email, "Bulk Buyer", "Bulk Buyer", "1 Main St", "",
                     "Springfield", "IL", "62701", "US", sku, quantity, "19.90")
                )  # fmt: skip
                lines += 1
    return lines


def import_file(path: Path, *, env: dict, root: Path) -> dict:
    """Run ``manage.py import_orders`` on ``path``; its wall time, peak RSS (MiB) and last output line."""
    cmd = [sys.executable, "manage.py", "import_orders", "--channel", "bench", "--format", "csv"]
    cmd += ["--batch-size", str(BATCH), "--no-progress", str(path)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (peak RSS), not all children's
        seconds = time.monotonic() - started
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    if code != 0:
        raise RuntimeError(f"import_orders exited {code}: {errors.strip()[-500:]}")
    rss = usage.ru_maxrss / 1024  # Linux reports KiB
    return {"seconds": seconds, "rss_mib": rss, "output": output.strip().splitlines()[-1]}


# What the import and the COPY write: the tables whose leftover work (autovacuum, dirty pages) settle() clears.
WRITTEN = [
    "orders_order", "orders_orderline", "orders_shipment", "orders_shipmentline", "orders_orderevent",
    "orders_customer", "channels_app_inboundorder", "inventory_stockitem",
]  # fmt: skip


def settle(dsn: str) -> None:
    """Start each timed run from the same quiet database: the previous run's rows vacuumed and analyzed and
    its pages written out (untimed). Otherwise autovacuum and a checkpoint, set off by the run before, land on
    whichever run comes next: the same COPY took 7,400 to 9,700 orders/s after the same import."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in WRITTEN:
            conn.execute(f"VACUUM ANALYZE {table}")
        conn.execute("CHECKPOINT")


def run(*, dsn: str, env: dict, root: Path, channel_id: int, rows: list, row_type) -> None:
    from inventory.models import Product
    from tests.benchmarks import bulk_rows

    products = list(Product.objects.order_by("pk").values_list("pk", "sku"))
    skus = [sku for _, sku in products]
    small = max(ORDERS // 4, 1)
    results = {}

    def copy_rate(prefix: str) -> float:
        settle(dsn)
        return bulk_rows.copy_orders(dsn=dsn, count=ORDERS, channel_id=channel_id, products=products, prefix=prefix)

    copied_before = copy_rate("copyimp-before")
    with tempfile.TemporaryDirectory() as tmp:
        for count, prefix in ((small, "IMPS"), (ORDERS, "IMPB")):
            path = Path(tmp) / f"orders-{count}.csv"
            lines = write_orders_csv(path, count=count, skus=skus, prefix=prefix)
            settle(dsn)
            got = import_file(path, env=env, root=root)
            expected = f"imported {count}, duplicates 0, failed 0"
            if got["output"] != expected:
                raise RuntimeError(f"import_orders said {got['output']!r}, expected {expected!r}")
            results[count] = {**got, "lines": lines, "rate": count / got["seconds"]}
            print(
                f"bench import: {count} orders in {got['seconds']:.1f} s, peak RSS {got['rss_mib']:.0f} MiB",
                file=sys.stderr,
            )
    if env.get("REDIS_URL"):  # the batches' outbox work: nobody consumes it in this run
        from tests.benchmarks.run import forget_queued_work

        forget_queued_work()
    copied_after = copy_rate("copyimp-after")
    # The baseline brackets the imports: the machine's speed drifts by a fifth over minutes here.
    baseline = (copied_before + copied_after) / 2
    print(f"bench import: COPY {copied_before:.0f} orders/s before, {copied_after:.0f} after", file=sys.stderr)

    big, little = results[ORDERS], results[small]
    rows.append(
        row_type(
            f"Bulk import, {ORDERS} orders / {big['lines']} lines (orders/s)",
            big["rate"],
            "orders/s",
            baseline,
            f"COPY of the same rows (mean of {copied_before:.0f} before and {copied_after:.0f} after)",
            ">= 0.25 of COPY",
            big["rate"] >= 0.25 * baseline,
        )
    )
    rows.append(row_type(f"Bulk import, {small} orders (orders/s)", little["rate"], "orders/s", baseline, "COPY"))
    rows.append(
        row_type(
            f"Bulk import peak RSS, {ORDERS} orders (MiB)",
            big["rss_mib"],
            "MiB",
            little["rss_mib"],
            f"{small} orders",
            "flat: <= 1.2x",
            big["rss_mib"] <= 1.2 * little["rss_mib"],
        )
    )
