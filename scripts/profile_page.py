"""One page's Python cost per request: CPU time (this process's, whatever the machine's
load) and wall time, through the whole middleware stack (Django's test client, DEBUG off,
the benchmark environment), on a data set built by scripts/bench_dataset.py.

    .venv/bin/python scripts/profile_page.py \
        --database postgres://postgres@127.0.0.1:5432/tether_big10k --url /staff/ \
        --user demo.clinician --requests 120

    # the same for an earlier commit, extracted with git archive (its own code, this
    # script): run from that directory
    (cd /tmp/prev && /work/main/.venv/bin/python /work/main/scripts/profile_page.py ...)

It signs in once, sends ``--warm`` untimed requests (each worker process compiles its kept
statements on its first request), then ``--requests`` timed ones, and prints the medians
and the statements of the last request with each one's time. ``--profile`` adds the top
functions by cumulative time (cProfile roughly doubles the times). The page's audit rows
are written as in production: clear ``privacy_auditpending`` on a data set you benchmark
often (the sealer does not run here). Run it several times, before and after in turn: the
2-core machines this was written on vary by up to 30 % between runs of the same code.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
# The code measured is the current directory's (an extracted earlier commit) when it holds
# a ``tether`` package, else this checkout's.
CODE = Path.cwd() if (Path.cwd() / "tether").is_dir() else SCRIPTS.parent
sys.path.insert(0, str(CODE))
sys.path.insert(0, str(SCRIPTS))

import bench_env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--url", default="/staff/")
    parser.add_argument("--user", default="demo.clinician")
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--dump", metavar="FILE", help="with --profile: write the profile to FILE")
    parser.add_argument(
        "--explain",
        type=int,
        default=0,
        metavar="N",
        help="EXPLAIN ANALYZE the last request's N slowest SELECT statements (with their "
        "values in the text: the plan made for these values, where a kept statement runs "
        "with one made without them, lib/statements.py)",
    )
    args = parser.parse_args()

    bench_env.apply(args.database, debug=False)
    os.environ["TETHER_WEB_PROCESS"] = "1"
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from tether.accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=args.user))
    for _ in range(args.warm):
        client.get(args.url)
    statements: list[tuple[float, str, Any]] = []

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - started, sql, params))

    profiler = cProfile.Profile() if args.profile else None
    cpu: list[float] = []
    wall: list[float] = []
    status = 0
    for _ in range(args.requests):
        statements.clear()
        started, started_cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        with connection.execute_wrapper(timed):
            status = client.get(args.url).status_code
        if profiler:
            profiler.disable()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    print(
        f"{CODE.name} {args.url} as {args.user}: status {status}, "
        f"CPU median {statistics.median(cpu) * 1000:.2f} ms, "
        f"wall median {statistics.median(wall) * 1000:.2f} ms, "
        f"{len(statements)} statements ({sum(t for t, _, _ in statements) * 1000:.2f} ms "
        "in the last request)"
    )
    for seconds, sql, _ in statements:
        print(f"  {seconds * 1000:6.2f} ms  {sql[:100]}")
    selects = [s for s in statements if s[1].lstrip().upper().startswith("SELECT")]
    for seconds, sql, params in sorted(selects, key=lambda s: -s[0])[: args.explain]:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(f"    {line}" for (line,) in cursor.fetchall())
        print(f"\n  {seconds * 1000:.2f} ms: {sql}\n{plan}")
    if profiler:
        if args.dump:
            profiler.dump_stats(args.dump)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
