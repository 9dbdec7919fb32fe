"""Two versions of the intake, paired: ``python -m tests.benchmarks.ab_intake TREE_A TREE_B`` (from a checkout).

Not part of ``make bench``: a tool for judging a change on a noisy VM, where one run against an older table
says little. Each tree (a git worktree of a commit, its ``.venv`` a link to this one's) serves the same
database (``<DATABASE_URL name>_ab``, migrated and seeded by tree A) from its own gunicorn; wrk alternates
between them, ``AB_ROUNDS`` (8) rounds of ``AB_SECONDS`` (10) s at 4 clients, swapping who goes first each
round, and prints each round and the medians: orders/s and CPU per order in the web process and PostgreSQL.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.benchmarks import run

PORTS = (8771, 8772)


def _load(port: int, seconds: int, key: str, run_id: str) -> tuple[float, int]:
    cmd = ["wrk", "-t2", "-c4", f"-d{seconds}s", "-s", str(run.HERE / "intake.lua"), f"http://127.0.0.1:{port}/"]
    env = {**os.environ, "KEY": key, "RUN": run_id, "TARGET_PATH": "/api/v1/orders/"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), int(bad.group(1)) if bad else 0


def main() -> None:
    trees = [str(Path(t).resolve()) for t in sys.argv[1:3]]
    if len(trees) != 2:
        run.fail("usage: python -m tests.benchmarks.ab_intake TREE_A TREE_B")
    dsn = run.bench_dsn("ab")
    run.recreate_database(dsn)
    run.setup_django(dsn)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    key = run.seed()["key"]
    env = run.django_env(dsn)
    servers = {}
    for tree, port in zip(trees, PORTS, strict=True):
        cmd = [f"{tree}/.venv/bin/gunicorn", "config.wsgi", "--workers", str(run.WORKERS), "--log-level", "warning"]
        cmd += ["--bind", f"127.0.0.1:{port}"]
        proc = subprocess.Popen(cmd, cwd=tree, env={**env, "PYTHONPATH": tree}, start_new_session=True)
        servers[tree] = (proc, port)
    try:
        time.sleep(8)  # the workers import Django
        for _, port in servers.values():
            _load(port, 4, key, f"warm-{port}")
        seconds, rounds = int(os.environ.get("AB_SECONDS", "10")), int(os.environ.get("AB_ROUNDS", "8"))
        got: dict[str, list[tuple[float, float, float]]] = {tree: [] for tree in trees}
        for n in range(rounds):
            for tree in trees if n % 2 == 0 else trees[::-1]:
                proc, port = servers[tree]
                before = run.process_cpu_seconds(web=proc.pid)
                rps, errors = _load(port, seconds, key, f"ab{n}-{port}-{time.time_ns()}")
                spent = {k: v - before[k] for k, v in run.process_cpu_seconds(web=proc.pid).items()}
                orders = rps * seconds
                got[tree].append((rps, 1000 * spent["web"] / orders, 1000 * spent["postgres"] / orders))
                print(f"{tree}: {rps:.1f} orders/s, web {got[tree][-1][1]:.2f} ms, postgres {got[tree][-1][2]:.2f} ms"
                      + (f", {errors} errors" if errors else ""), flush=True)  # fmt: skip
        for tree in trees:
            rps, web, pg = (statistics.median(column) for column in zip(*got[tree], strict=True))
            print(f"median {tree}: {rps:.1f} orders/s, web {web:.2f} ms/order, postgres {pg:.2f} ms/order")
    finally:
        for proc, _ in servers.values():
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
