"""Bulk import: ``import_orders`` of a generated CSV against COPY of the same rows, in the same run.

``import_orders`` runs as a subprocess (as an operator runs it), so its peak RSS
is its own (``os.wait4``). Two file sizes show whether memory stays flat
(streaming, a batch in memory at a time). The baseline is ``bulk_rows.copy_orders``:
COPY of the same number of 3-line orders into the same tables, no rules at all.

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


def run(*, dsn: str, env: dict, root: Path, channel_id: int, rows: list, row_type) -> None:
    from inventory.models import Product
    from tests.benchmarks import bulk_rows

    products = list(Product.objects.order_by("pk").values_list("pk", "sku"))
    skus = [sku for _, sku in products]
    small = max(ORDERS // 4, 1)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count, prefix in ((small, "IMPS"), (ORDERS, "IMPB")):
            path = Path(tmp) / f"orders-{count}.csv"
            lines = write_orders_csv(path, count=count, skus=skus, prefix=prefix)
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
    copy_rate = bulk_rows.copy_orders(dsn=dsn, count=ORDERS, channel_id=channel_id, products=products, prefix="copyimp")

    big, little = results[ORDERS], results[small]
    rows.append(
        row_type(
            f"Bulk import, {ORDERS} orders / {big['lines']} lines (orders/s)",
            big["rate"],
            "orders/s",
            copy_rate,
            "COPY of the same rows",
            ">= 0.25 of COPY",
            big["rate"] >= 0.25 * copy_rate,
        )
    )
    rows.append(row_type(f"Bulk import, {small} orders (orders/s)", little["rate"], "orders/s", copy_rate, "COPY"))
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
