"""Check-in submits per second over HTTP, as a share of pgbench's single-row insert TPS
measured in the same run (issue #20's goal: at least 5%).

    uv run python scripts/bench_checkin_submit.py \
        --database postgres://postgres@127.0.0.1:5432/tether_big_copy --clients 6 --seconds 20

The database must be a COPY of one built by scripts/bench_dataset.py (it is written
to: drafts are created, submitted, and left). The script:

1. runs ``pgbench`` for ``--seconds`` with ``--clients`` clients, each transaction one
   INSERT of one row into a scratch table (``bench_pgbench_insert``, dropped after);
2. creates, untimed, ``--drafts`` fully answered daily check-in drafts for each of the
   generated patients bench.p0 .. bench.p<clients-1> (windows that no schedule uses);
3. starts gunicorn (``--workers``, DEBUG off, scripts/bench_env.py), signs each patient
   in once through the sign-in form (the only password check), then each client POSTs
   its drafts' finish page one after the other, all clients at once, for ``--seconds``;
4. prints both rates and the ratio.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SCRIPTS))

import bench_env  # noqa: E402

PASSWORD = "tether-demo-2026"  # noqa: S105 - the demo's public password


def pgbench_tps(database: str, clients: int, seconds: int) -> float:
    url = urlparse(database)
    base = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432)]
    base += ["-U", url.username or "postgres"]
    name = url.path.lstrip("/")
    psql = ["psql", *base, "-q", "-d", name, "-c"]
    subprocess.run(  # noqa: S603
        [
            *psql,
            "CREATE TABLE IF NOT EXISTS bench_pgbench_insert (id bigserial PRIMARY KEY, v int)",
        ],
        check=True,
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write("INSERT INTO bench_pgbench_insert (v) VALUES (1);\n")
    try:
        out = subprocess.run(  # noqa: S603
            [
                *["pgbench", *base, "-n", "-c", str(clients), "-j", str(clients)],
                *["-T", str(seconds), "-f", script.name, name],
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(script.name)
        subprocess.run([*psql, "DROP TABLE bench_pgbench_insert"], check=True)  # noqa: S603
    for line in out.splitlines():
        if line.startswith("tps"):
            return float(line.split("=")[1].split()[0])
    raise SystemExit(f"no tps in pgbench's output:\n{out}")


def make_drafts(usernames: list[str], per_client: int) -> dict[str, list[str]]:
    """Fully answered daily check-in drafts, ``per_client`` per patient: their keys."""
    import datetime as dt
    import uuid

    from django.utils import timezone

    from tether.checkins import services
    from tether.checkins.models import Answer, Instrument, Response
    from tether.checkins.selectors import current_episode
    from tether.patients.models import Patient

    daily = Instrument.objects.get(code="daily", is_current=True)
    now = timezone.now()
    keys: dict[str, list[str]] = {}
    for username in usernames:
        patient = Patient.objects.get(user__username=username)
        episode = current_episode(patient=patient)
        if episode is None:
            raise SystemExit(f"{username} has no active episode")
        run = uuid.uuid4().hex[:8]
        drafts = Response.objects.bulk_create(
            Response(
                organization_id=patient.organization_id,
                patient=patient,
                episode=episode,
                instrument=daily,
                window=f"bench:{run}:{i}",
                record_category=Response.objects.filter(patient=patient)
                .values_list("record_category", flat=True)
                .first()
                or "self_report",
                started_at=now,
                expires_at=now + dt.timedelta(hours=6),
            )
            for i in range(per_client)
        )
        items = [item for item in services.items_for(drafts[0]) if item.required]
        Answer.objects.bulk_create(
            Answer(
                organization_id=patient.organization_id,
                response=draft,
                item_code=item.code,
                value=item.options[0].value
                if item.options
                else (5 if item.kind == "scale" else None),
                text="fine" if item.kind == "text" else None,
                answered_at=now,
            )
            for draft in drafts
            for item in items
        )
        keys[username] = [str(d.key) for d in drafts]
    return keys


def http_rate(
    database: str, keys: dict[str, list[str]], workers: int, seconds: int
) -> tuple[float, int, int]:
    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = subprocess.Popen(  # noqa: S603
        [
            *[str(ROOT / ".venv/bin/gunicorn"), "tether.wsgi:application"],
            *["--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        ],
        cwd=ROOT,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                requests.get(base + "/healthz/live", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        sessions = {}
        for username in keys:
            s = requests.Session()
            s.get(base + "/accounts/sign-in/")
            s.post(
                base + "/accounts/sign-in/",
                data={
                    "username": username,
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": s.cookies.get("csrftoken", ""),
                },
                headers={"Referer": base + "/accounts/sign-in/"},
            )
            if "sessionid" not in s.cookies:
                raise SystemExit(f"could not sign in as {username}")
            s.get(base + "/me/")  # warm the worker
            sessions[username] = s
        done: list[int] = []
        bad: list[int] = []
        start = threading.Barrier(len(keys) + 1)
        stop_at: list[float] = []

        def client(username: str) -> None:
            s = sessions[username]
            token = s.cookies.get("csrftoken", "")
            start.wait()
            for key in keys[username]:
                if time.perf_counter() >= stop_at[0]:
                    break
                r = s.post(
                    f"{base}/me/check-ins/{key}/finish/",
                    data={"csrfmiddlewaretoken": token},
                    allow_redirects=False,
                )
                (
                    done
                    if r.status_code == 302 and r.headers["Location"].endswith("/done/")
                    else bad
                ).append(1)

        threads = [threading.Thread(target=client, args=(u,)) for u in keys]
        for t in threads:
            t.start()
        stop_at.append(time.perf_counter() + seconds)
        t0 = time.perf_counter()
        start.wait()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=30)
    return len(done) / elapsed, len(done), len(bad)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--drafts", type=int, default=1500, help="drafts made per client")
    args = parser.parse_args()
    bench_env.apply(args.database, debug=False)
    import django

    django.setup()
    tps = pgbench_tps(args.database, args.clients, args.seconds)
    usernames = [f"bench.p{i}" for i in range(args.clients)]
    keys = make_drafts(usernames, args.drafts)
    rate, sent, bad = http_rate(args.database, keys, args.workers, args.seconds)
    print(f"pgbench single-row insert, {args.clients} clients: {tps:.0f} TPS")
    print(
        f"check-in submit over HTTP, {args.clients} clients, {args.workers} gunicorn workers: "
        f"{rate:.1f} per second ({sent} sent, {bad} not sent)"
    )
    print(f"ratio: {100 * rate / tps:.2f}% of pgbench")


if __name__ == "__main__":
    main()
