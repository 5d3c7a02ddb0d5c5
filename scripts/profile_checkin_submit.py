"""Where one check-in submit's Python time goes: cProfile around the finish POST,
through the whole middleware stack (Django's test client, DEBUG off, the benchmark
environment), on a scratch copy of a data set built by scripts/bench_dataset.py.

    .venv/bin/python scripts/profile_checkin_submit.py \
        --database postgres://postgres@127.0.0.1:5432/h_sb_1k --submits 300

It makes ``--submits`` answered daily check-in drafts for bench.p0 (untimed, as
scripts/bench_checkin_submit.py does), signs in once, sends a few untimed submits to
warm the process, then sends the rest under the profiler and prints the mean wall time
and this process's CPU time per submit (the Python side, whatever the machine's load)
and the top functions by own and cumulative time. The drafts are left sent.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS.parent))
sys.path.insert(0, str(SCRIPTS))

import bench_env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--submits", type=int, default=300)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--no-profile", action="store_true", help="only time the submits")
    parser.add_argument("--dump", help="also write the profile to this file (pstats)")
    args = parser.parse_args()
    bench_env.apply(args.database, debug=False)
    import django

    django.setup()
    from bench_checkin_submit import PASSWORD, make_drafts
    from django.test import Client

    keys = make_drafts(["bench.p0"], args.submits + args.warm)["bench.p0"]
    client = Client(HTTP_HOST="127.0.0.1")
    client.post("/accounts/sign-in/", {"username": "bench.p0", "password": PASSWORD})
    client.get("/me/")

    def submit(key: str) -> None:
        page = client.post(f"/me/check-ins/{key}/finish/")
        if page.status_code != 302 or not page["Location"].endswith("/done/"):
            raise SystemExit(f"submit failed: {page.status_code}")

    for key in keys[: args.warm]:
        submit(key)
    timed = keys[args.warm :]
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    if not args.no_profile:
        profiler.enable()
    for key in timed:
        submit(key)
    if not args.no_profile:
        profiler.disable()
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    print(
        f"{len(timed)} submits: {1000 * elapsed / len(timed):.2f} ms each (wall), "
        f"{1000 * cpu / len(timed):.2f} ms of this process's CPU each"
    )
    if args.no_profile:
        return
    if args.dump:
        profiler.dump_stats(args.dump)
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
