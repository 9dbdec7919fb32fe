"""``import_orders --channel CODE --format csv|shopify|woocommerce FILE``: stream an export into orders.

Exit 0 when nothing failed, 1 when some orders failed (kept as failed inbound
orders, to replay after the cause is fixed), 2 when the file is unusable or the
channel unknown (one line on stderr, no traceback).
"""

from __future__ import annotations

import gc
import os
import sys
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from channels_app.importers.readers import FORMATS, CountingReader, UnusableFile, read_payloads
from channels_app.intake import ImportResult, inbound_import
from channels_app.models import SalesChannel

GC_THRESHOLDS = (7_000, 20, 20)  # config.heap.THRESHOLDS (apps do not import config)
MAX_JOBS = 4  # more processes than cores add nothing (2 cores: 3 or 4 no faster than 2); each holds a connection


class Command(BaseCommand):
    help = "Import orders from a CSV, Shopify orders.json or WooCommerce REST v3 export (streamed, idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the export file ('-' for standard input).")
        parser.add_argument("--channel", required=True, help="Code of the sales channel the orders belong to.")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
        parser.add_argument("--batch-size", type=int, default=1000, help="Orders placed together in one transaction.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar, even on a terminal.")
        parser.add_argument(
            "--jobs",
            type=int,
            default=None,
            help="Processes placing batches side by side on PostgreSQL (default: one per CPU, at most "
            f"{MAX_JOBS}); 1 places every batch in turn, in the file's order.",
        )

    def handle(self, *args, file, channel, fmt, batch_size, no_progress, jobs, **options):
        from tqdm import tqdm

        if jobs is None:
            jobs = min(os.cpu_count() or 1, MAX_JOBS)
        if jobs < 1:
            raise CommandError("--jobs must be at least 1.", returncode=2)
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.", returncode=2)

        target = SalesChannel.objects.filter(code=channel).first()
        if target is None:
            raise CommandError(f"Unknown channel {channel!r}.", returncode=2)
        if file == "-":
            raw, size, name = sys.stdin.buffer, None, "stdin"
        else:
            path = Path(file)
            if not path.is_file():
                raise CommandError(f"No such file: {file}.", returncode=2)
            raw, size, name = path.open("rb"), path.stat().st_size, path.name

        show = not no_progress and sys.stderr.isatty()
        with (
            raw,
            _gc_frozen(),
            tqdm(total=size, unit="B", unit_scale=True, disable=not show, file=sys.stderr, desc=name) as bar,
        ):
            reader = CountingReader(raw, on_read=bar.update)
            so_far = ImportResult()
            try:
                result = inbound_import(
                    channel=target,
                    fmt=fmt,
                    payloads=read_payloads(fmt, reader),
                    actor="system",
                    source=name,
                    batch_size=batch_size,
                    on_order=so_far.count,
                    bulk=True,
                    jobs=jobs,
                )
            except UnusableFile as exc:
                done = f" (before that: {so_far})" if so_far.total else ""
                raise CommandError(f"{name}: {exc}{done}", returncode=2) from None
            except BrokenProcessPool:  # killed (out of memory?): its batch committed whole or not at all
                raise CommandError(
                    f"{name}: an import process died ({so_far} before that); run the import again: "
                    "what was placed counts as duplicates, the rest is placed.",
                    returncode=1,
                ) from None
        if result.total == 0:
            raise CommandError(f"{name}: no orders found in the file.", returncode=2)
        self.stdout.write(str(result))
        if result.failed:
            raise CommandError(
                f"{result.failed} order(s) failed; see /admin/channels_app/inboundorder/?status__exact=failed "
                "or GET /api/v1/inbound-orders/?status=failed, fix the cause and replay.",
                returncode=1,
            )


@contextmanager
def _gc_frozen():
    """Leave what was loaded before the import (Django, the apps: hundreds of thousands of objects) out
    of the garbage collector's rounds while it runs: every batch allocates tens of thousands of rows,
    and the full collections they set off spent about a sixth of the import's CPU scanning those. And
    collect the young less often, as the web processes do (``config/heap.py``): a batch's rows are
    short-lived cycles that young collections every 700 allocations only promote."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
