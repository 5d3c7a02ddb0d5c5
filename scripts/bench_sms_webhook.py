"""Time to answer Twilio's inbound-text webhook under concurrent signed posts.

    uv run python scripts/bench_sms_webhook.py \
        --database postgres://postgres@127.0.0.1:5432/h_out_bench --clients 20 --groups 3

Use a scratch database: the script creates it if missing, migrates it and adds, each run,
a fresh organization with one program that asks the daily check-in and
``--clients x --groups`` patients (each with a portal account, an active episode and a
contact preference: own number, texts agreed to, the daily check-in by text). Then it
starts gunicorn (``--workers`` sync workers, DEBUG off, the console SMS backend,
scripts/bench_env.py) and, for each group of ``--clients`` patients, fires rounds of
``--clients`` posts at once from as many threads, one per patient, each signed with
``twilio.request_validator.RequestValidator`` against ``TETHER_PUBLIC_BASE_URL``:

1. "7": starts the daily check-in and records the mood (the next question is the answer);
2. "well": the sleep item;
3. "skip": the optional note; the check-in is submitted;
4. "HELP": the keyword answer.

Each round starts when all its threads are ready (a barrier) and ends when the last
answer is in. The time to answer is measured by the client, from sending the post to the
whole TwiML answer. It prints the median and p95 over all posts and per step, the count
of non-2xx answers, and the load average before and after (the machine is shared). It
checks in the database that each patient's check-in is complete with mood 7.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SCRIPTS))

import bench_env  # noqa: E402

AUTH_TOKEN = "bench-twilio-auth-token-not-a-secret"  # noqa: S105 - benchmark only
PUBLIC_BASE = "https://sms-bench.tether.example"
PATH = "/outreach/twilio/inbound/"
STEPS = ("7", "well", "skip", "HELP")


def ensure_database(database: str) -> None:
    """Create the scratch database if it is not there yet (a PostgreSQL URL)."""
    url = urlparse(database)
    base = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432)]
    base += ["-U", url.username or "postgres"]
    made = subprocess.run(  # noqa: S603
        ["createdb", *base, url.path.lstrip("/")],  # noqa: S607
        capture_output=True,
        text=True,
    )
    if made.returncode != 0 and "already exists" not in made.stderr:
        raise SystemExit(made.stderr)


def seed(count: int) -> list[str]:
    """A fresh organization and ``count`` texting patients; their numbers (E.164)."""
    from tether.accounts.models import User
    from tether.checkins.models import ProgramInstrument
    from tether.checkins.sync import sync_instruments
    from tether.organizations.models import Organization, Program
    from tether.outreach.models import ContactPreference
    from tether.patients.models import Episode, LevelOfCare, Patient

    sync_instruments()
    run = uuid.uuid4().hex[:8]
    org = Organization.objects.create(name=f"SMS bench {run}", slug=f"sms-bench-{run}")
    program = Program.objects.create(
        organization=org,
        name="Bench IOP",
        kind="iop",
        crisis_line="555-0100",
        time_zone="America/New_York",
    )
    ProgramInstrument.objects.create(
        organization=org, program=program, instrument_code="daily", schedule="daily"
    )
    users = User.objects.bulk_create(
        User(
            username=f"smsbench.{run}.{i}",
            password="!",  # unusable: these patients never sign in  # noqa: S106
            kind=User.Kind.PATIENT,
            organization=org,
            has_seen_welcome=True,
        )
        for i in range(count)
    )
    patients = Patient.objects.bulk_create(
        Patient(
            organization=org,
            user=user,
            first_name="P",
            last_name=str(i),
            date_of_birth=dt.date(1990, 1, 1),
            record_number=f"{run}-{i}",
        )
        for i, user in enumerate(users)
    )
    today = dt.datetime.now(dt.UTC).date()
    Episode.objects.bulk_create(
        Episode(
            organization=org,
            patient=patient,
            program=program,
            level_of_care=LevelOfCare.IOP,
            admitted_on=today - dt.timedelta(days=20),
        )
        for patient in patients
    )
    # Valid US numbers; an earlier run's patients give theirs up (a number of two
    # patients would be read for neither).
    numbers = [f"+1413555{i:04d}" for i in range(count)]
    opted = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    ContactPreference.objects.filter(sms_phone__in=numbers).update(sms_phone="")
    ContactPreference.objects.bulk_create(
        ContactPreference(
            organization=org,
            patient=patient,
            sms_phone=number,
            by_sms=True,
            daily_checkin_by_text=True,
            sms_opted_in_at=opted,
        )
        for patient, number in zip(patients, numbers, strict=True)
    )
    return numbers


def serve(workers: int) -> tuple[subprocess.Popen[bytes], str]:
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
    for _ in range(300):
        try:
            requests.get(base + "/healthz/live", timeout=1)
            return server, base
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def post(base: str, number: str, body: str) -> tuple[float, int, str]:
    import requests
    from twilio.request_validator import RequestValidator

    data = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": "ACbench",
        "From": number,
        "To": "+14135550199",
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE + PATH, data)
    started = time.perf_counter()
    answer = requests.post(
        base + PATH, data=data, headers={"X-Twilio-Signature": signature}, timeout=60
    )
    return time.perf_counter() - started, answer.status_code, answer.text


def fire(base: str, numbers: list[str], body: str) -> list[tuple[float, int, str]]:
    """One round: a post from each number at once, one thread each."""
    results: list[tuple[float, int, str]] = [(0.0, 0, "")] * len(numbers)
    ready = threading.Barrier(len(numbers))

    def client(k: int) -> None:
        ready.wait()
        try:
            results[k] = post(base, numbers[k], body)
        except Exception as error:  # counted as a failure
            results[k] = (0.0, 599, str(error))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(len(numbers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--clients", type=int, default=20, help="concurrent posts per round")
    parser.add_argument("--groups", type=int, default=3, help="groups of fresh patients")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    args = parser.parse_args()
    ensure_database(args.database)
    bench_env.apply(args.database, debug=False)
    os.environ.update(
        {
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TETHER_PUBLIC_BASE_URL": PUBLIC_BASE,
            "TETHER_SMS_BACKEND": "console",
            "TETHER_PUSH_BACKEND": "console",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    numbers = seed(args.clients * args.groups)
    load_before = os.getloadavg()
    server, base = serve(args.workers)
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    bad: list[tuple[int, str]] = []
    try:
        fire(base, [f"+1999555{k:04d}" for k in range(args.workers * 2)], "hi")  # warm up
        for g in range(args.groups):
            group = numbers[g * args.clients : (g + 1) * args.clients]
            for step in STEPS:
                for took, status, text in fire(base, group, step):
                    times[step].append(took)
                    if not 200 <= status < 300:
                        bad.append((status, text[:200]))
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()

    from tether.checkins.models import Answer

    moods = Answer.objects.filter(
        item_code="mood",
        response__status="complete",
        response__patient__contact_preference__sms_phone__in=numbers,
    ).values_list("value", flat=True)
    every = [t for step in STEPS for t in times[step]]
    print(
        f"inbound SMS webhook, {args.clients} concurrent signed posts per round, "
        f"{args.groups} groups x {len(STEPS)} rounds = {len(every)} posts, "
        f"{args.workers} gunicorn sync workers, DEBUG off"
    )
    print(
        f"all: median {statistics.median(every) * 1000:.0f} ms, p95 {p95(every) * 1000:.0f} ms, "
        f"max {max(every) * 1000:.0f} ms; non-2xx: {len(bad)}"
    )
    for step in STEPS:
        print(
            f"  {step!r:7}: median {statistics.median(times[step]) * 1000:.0f} ms, "
            f"p95 {p95(times[step]) * 1000:.0f} ms"
        )
    print(
        "check-ins completed by text: "
        f"{len(moods)} of {len(numbers)} (mood 7: {sum(1 for v in moods if v == 7)})"
    )
    print(
        "load average (1, 5, 15 min) before: "
        + ", ".join(f"{v:.1f}" for v in load_before)
        + "; after: "
        + ", ".join(f"{v:.1f}" for v in load_after)
    )
    if len(moods) != len(numbers) or bad:
        print("WARNING: not every check-in was completed by text, or some answers failed")
    for status, text in bad[:5]:
        print(f"  non-2xx {status}: {text}")


if __name__ == "__main__":
    main()
