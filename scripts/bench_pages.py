"""Time the staff pages, the patient's pages and a check-in submit, served as in production.

    uv run python scripts/bench_pages.py \
        --database postgres://postgres@127.0.0.1:5432/tether_big --rounds 15

The database is one built by scripts/bench_dataset.py (the demo clinic, plus N generated
patients). The script starts gunicorn (``--workers``, DEBUG off, the benchmark
environment of scripts/bench_env.py) on a free port, signs the personas in through the
sign-in form, then for each round requests, one after the other, the signed-in
``/healthz`` and each page, so every page is compared with ``/healthz`` in the same
moments of the same run (the machine's speed drifts; the ratio holds better than a
time). It prints, per page: median and p95 time, median / median of ``/healthz``, the
HTML size, and the number of SQL queries the page makes (counted in this process with
Django's test client against the same database, not timed).

The pages (personas from tether/demo/LOGINS.md; the patient is the first generated
patient ``bench.p0`` when there is one, Maya ``demo.patient`` otherwise):

- caseload board: ``/staff/`` as demo.clinician (a 60-patient caseload when generated)
- lead board: ``/staff/`` as demo.lead (every active patient of the four programs)
- patient list: ``/staff/`` as demo.frontdesk
- flag queue: ``/staff/flags/`` as demo.clinician, and as demo.lead
- patient overview: ``/staff/patients/<id>/`` and the pre-session review
  ``/staff/patients/<id>/review/`` as demo.clinician
- patient home ``/me/`` and progress ``/me/progress/`` as the patient
- check-in submit: the POST that sends a complete daily check-in (the draft and its
  answers are set up, untimed, before each one; today's daily response is deleted first)

``--pages`` takes a comma-separated subset of the names in PAGES. ``--max-page-seconds``
stops sampling a page once its samples add up to that many seconds (slow pages at size).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
# --app-dir: serve (and count the queries of) another checkout of the code, for a
# before/after comparison on the same database (git archive COMMIT | tar -x -C DIR).
_APP = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--app-dir=")), "")
ROOT = Path(_APP).resolve() if _APP else SCRIPTS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SCRIPTS))

import bench_env  # noqa: E402 - after the path is set

PASSWORD = "tether-demo-2026"  # noqa: S105 - the demo's public password (tether/demo/logins.py)


@dataclass
class Page:
    name: str
    persona: str  # "clinician", "lead", "frontdesk", "patient"
    path: str
    samples: list[float] = field(default_factory=list)
    healthz: list[float] = field(default_factory=list)
    size: int = 0
    status: int = 0
    queries: int | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _setup_django(database: str) -> None:
    bench_env.apply(database, debug=False)
    import django

    django.setup()


def _subjects() -> dict[str, Any]:
    """Who is who in this database: usernames and the reviewed patient's id."""
    from tether.patients.models import Patient

    patient = Patient.objects.filter(user__username="bench.p0").first()
    if patient is None:
        patient = Patient.objects.get(user__username="demo.patient")
    if patient.user is None:
        raise SystemExit("the benchmarked patient has no account")
    return {
        "clinician": "demo.clinician",
        "lead": "demo.lead",
        "frontdesk": "demo.frontdesk",
        "patient": patient.user.username,
        "patient_id": patient.pk,
    }


def pages_for(subjects: dict[str, Any]) -> list[Page]:
    pid = subjects["patient_id"]
    return [
        Page("caseload board", "clinician", "/staff/"),
        Page("lead board", "lead", "/staff/"),
        Page("patient list", "frontdesk", "/staff/"),
        Page("flag queue", "clinician", "/staff/flags/"),
        Page("flag queue (lead)", "lead", "/staff/flags/"),
        Page("patient overview", "clinician", f"/staff/patients/{pid}/"),
        Page("pre-session review", "clinician", f"/staff/patients/{pid}/review/"),
        Page("patient home", "patient", "/me/"),
        Page("progress", "patient", "/me/progress/"),
        Page("check-in submit", "patient", "POST daily check-in"),
    ]


def count_queries(pages: list[Page], subjects: dict[str, Any]) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tether.accounts.models import User

    clients: dict[str, Client] = {}
    for page in pages:
        if page.path.startswith("POST"):
            continue
        client = clients.get(page.persona)
        if client is None:
            client = clients[page.persona] = Client(HTTP_HOST="127.0.0.1")
            client.force_login(User.objects.get(username=subjects[page.persona]))
        client.get(page.path, secure=True)  # warm: session, caches
        with CaptureQueriesContext(connection) as captured:
            client.get(page.path, secure=True)
        page.queries = len(captured)


class CheckinSetup:
    """Makes a fresh draft of today's daily check-in, all answered, for the patient."""

    def __init__(self, username: str) -> None:
        from tether.accounts.models import User

        self.user = User.objects.get(username=username)
        self.patient = self.user.patient

    def draft_key(self) -> str:
        from tether.checkins import services
        from tether.checkins.models import Response
        from tether.checkins.selectors import current_episode, due_for

        episode = current_episode(patient=self.patient)
        if episode is None:
            raise SystemExit("the benchmarked patient has no active episode")
        today = timezone_today(episode)
        stale = Response.objects.filter(
            patient=self.patient, instrument__code="daily", window=f"daily:{today.isoformat()}"
        )
        for old in stale:
            old.answers.all().delete()
            old.delete()
        due = next(
            d
            for d in due_for(patient=self.patient, episode=episode)
            if d.instrument.code == "daily"
        )
        response = services.response_start(
            actor=self.user, patient=self.patient, episode=episode, due=due
        )
        for item in services.items_for(response):
            if item.required:
                value = item.options[0].value if item.options else 5
                services.answer_save(actor=self.user, response=response, item=item, raw=str(value))
        return str(response.key)


def timezone_today(episode: Any) -> Any:
    from django.utils import timezone

    return timezone.now().astimezone(episode.program.tzinfo).date()


def run(args: argparse.Namespace) -> None:
    import requests

    _setup_django(args.database)
    subjects = _subjects()
    pages = pages_for(subjects)
    if args.pages:
        wanted = {name.strip() for name in args.pages.split(",")}
        pages = [p for p in pages if p.name in wanted]
    if not args.no_queries:
        count_queries(pages, subjects)
    port = _free_port()
    env = {**os.environ}
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            str(SCRIPTS.parent / ".venv/bin/gunicorn"),
            "tether.wsgi:application",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/healthz/live", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        sessions: dict[str, requests.Session] = {}
        for persona in {p.persona for p in pages}:
            s = requests.Session()
            s.get(base + "/accounts/sign-in/")
            r = s.post(
                base + "/accounts/sign-in/",
                data={
                    "username": subjects[persona],
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": s.cookies.get("csrftoken", ""),
                },
                headers={"Referer": base + "/accounts/sign-in/"},
            )
            if "sessionid" not in s.cookies:
                raise SystemExit(f"could not sign in as {subjects[persona]}: {r.status_code}")
            sessions[persona] = s
        setup = (
            CheckinSetup(subjects["patient"])
            if any(p.path.startswith("POST") for p in pages)
            else None
        )
        spent = dict.fromkeys((p.name for p in pages), 0.0)
        for round_no in range(args.rounds + 1):  # round 0 warms up
            for page in pages:
                if spent[page.name] > args.max_page_seconds:
                    continue
                s = sessions[page.persona]
                t0 = time.perf_counter()
                s.get(base + "/healthz")
                health = time.perf_counter() - t0
                if setup is not None and page.path.startswith("POST"):
                    key = setup.draft_key()
                    t0 = time.perf_counter()
                    r = s.post(
                        f"{base}/me/check-ins/{key}/finish/",
                        data={"csrfmiddlewaretoken": s.cookies.get("csrftoken", "")},
                        allow_redirects=False,
                    )
                    elapsed = time.perf_counter() - t0
                else:
                    t0 = time.perf_counter()
                    r = s.get(base + page.path, allow_redirects=False)
                    elapsed = time.perf_counter() - t0
                page.status = r.status_code
                page.size = len(r.content)
                if round_no > 0:
                    page.samples.append(elapsed)
                    page.healthz.append(health)
                    spent[page.name] += elapsed
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(args, pages)


def report(args: argparse.Namespace, pages: list[Page]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM patients_patient")
        patients = cursor.fetchone()[0]
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    name = args.database.rsplit("/", 1)[-1]
    print(f"\n{name}: {patients} patients, {args.workers} workers, jit={jit}, {args.rounds} rounds")
    print("| page | status | median | p95 | /healthz median | ratio | HTML | queries | n |")
    print("|---|---|---|---|---|---|---|---|---|")
    for page in pages:
        if not page.samples:
            continue
        median = statistics.median(page.samples)
        health = statistics.median(page.healthz)
        print(
            f"| {page.name} | {page.status} | {median * 1000:.0f} ms | "
            f"{_pct(page.samples, 0.95) * 1000:.0f} ms | {health * 1000:.1f} ms | "
            f"{median / health:.1f}x | {page.size / 1024:.0f} KB | "
            f"{page.queries if page.queries is not None else '-'} | {len(page.samples)} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--pages", default="", help="comma-separated page names")
    parser.add_argument("--max-page-seconds", type=float, default=60.0)
    parser.add_argument("--app-dir", default="", help="=DIR: the code to serve (default: this)")
    parser.add_argument("--no-queries", action="store_true", help="skip counting queries")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
