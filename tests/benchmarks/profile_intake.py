"""Where an API order's CPU goes, in-process: ``python -m tests.benchmarks.profile_intake [orders]``.

Not a benchmark (no ratios, no goals): a tool for working on the intake path.
Recreates ``<DATABASE_URL name>_prof``, seeds what ``make bench`` seeds, posts
the bench's 3-line order through Django's test client (the whole middleware
stack; with ``REDIS_URL`` set the outbox's work is really queued, then
forgotten) and prints CPU and queries per order, the top of a cProfile, and the
Python lines an order and a validate-only request execute (``PROF_LINES``
requests each, 20): a count that does not move with the VM's speed, so a
change to the request's Python shows as an exact difference.
"""

from __future__ import annotations

import collections
import cProfile
import json
import os
import pstats
import sys
import time

from tests.benchmarks import run


def body(n: int, skus: int = 30) -> str:
    a, b, c = (n % skus) + 1, ((n + 7) % skus) + 1, ((n + 13) % skus) + 1
    lines = [{"sku": f"BENCH-{a:03d}", "quantity": 1}, {"sku": f"BENCH-{b:03d}", "quantity": 2}]
    lines.append({"sku": f"BENCH-{c:03d}", "quantity": 1})
    address = {"name": "Bench", "line1": "1 Main St", "city": "Springfield", "region": "IL"}
    address |= {"postal_code": "62701", "country": "US"}
    return json.dumps(
        {
            "external_id": f"prof-{time.time_ns()}-{n}",
            "currency": "USD",
            "customer": {"email": f"c{n % 500}@example.com", "name": "Bench Customer"},
            "shipping_address": address,
            "lines": lines,
        }
    )


def main() -> None:
    orders = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    dsn = run.bench_dsn("prof")
    run.recreate_database(dsn)
    run.setup_django(dsn)
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    data = run.seed()
    client = Client(HTTP_AUTHORIZATION=f"Token {data['key']}")

    def post(n: int, path: str = "/api/v1/orders/") -> None:
        response = client.post(path, body(n), content_type="application/json")
        assert response.status_code == 201, response.content

    for n in range(50):  # warm caches, imports, prepared statements
        post(n)
    database = connection.settings_dict["NAME"]  # its own backend only: other work on the machine is not counted
    start_cpu, start, start_pg = time.process_time(), time.perf_counter(), run.backend_cpu_seconds(database)
    for n in range(50, 50 + orders):
        post(n)
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
    pg = run.backend_cpu_seconds(database) - start_pg
    with CaptureQueriesContext(connection) as queries:
        post(10_000_000)
    per_order = f"{1000 * cpu / orders:.2f} ms CPU here, {1000 * pg / orders:.2f} ms in PostgreSQL"
    print(f"{orders} orders: {per_order}, {1000 * wall / orders:.2f} ms wall per order")
    print(f"{len(queries.captured_queries)} queries per order:")
    for q in queries.captured_queries:
        print("   ", q["sql"][: int(os.environ.get("PROF_SQL", "160"))])
    reset_queries()
    profile = cProfile.Profile(time.process_time)  # CPU, not waiting on PostgreSQL
    profile.enable()
    for n in range(20_000_000, 20_000_000 + orders):
        post(n)
    profile.disable()
    stats = pstats.Stats(profile).sort_stats(os.environ.get("PROF_SORT", "cumulative"))
    stats.print_stats(int(os.environ.get("PROF_TOP", "60")))
    traced = int(os.environ.get("PROF_LINES", "20"))
    if traced:
        baseline, _ = lines_executed(lambda n: post(n, "/bench/validate/"), start=30_000_000, repeat=traced)
        lines, by_function = lines_executed(post, start=40_000_000, repeat=traced)
        print(f"Python lines executed per request: order {lines:.0f}, validate-only {baseline:.0f}")
        print("Per order, by function (lines executed in it and in what it called):")
        for code, count in by_function.most_common(int(os.environ.get("PROF_TOP", "60"))):
            where = code.co_filename.split("site-packages/")[-1].removeprefix(f"{run.ROOT}/")
            print(f"{count / traced:9.0f}  {code.co_name}  {where}:{code.co_firstlineno}")
    if os.environ.get("REDIS_URL"):
        run.forget_queued_work()


def lines_executed(call, *, start: int, repeat: int) -> tuple[float, collections.Counter]:
    """Python lines ``call(n)`` executes, per call (``sys.settrace``), and by function: each code object's
    lines and its callees' (a recursive one counted once). Exact where CPU time moves with the machine."""
    total = 0
    stack: list[tuple[object, int]] = []
    active: collections.Counter = collections.Counter()
    by_function: collections.Counter = collections.Counter()

    def local(frame, event, arg):
        nonlocal total
        if event == "line":
            total += 1
        elif event == "return":
            code, entered = stack.pop()
            active[code] -= 1
            if not active[code]:
                by_function[code] += total - entered
        return local

    def called(frame, event, arg):
        stack.append((frame.f_code, total))
        active[frame.f_code] += 1
        frame.f_trace_lines = True
        return local

    sys.settrace(called)
    try:
        for n in range(start, start + repeat):
            call(n)
    finally:
        sys.settrace(None)
    return total / repeat, by_function


if __name__ == "__main__":
    main()
