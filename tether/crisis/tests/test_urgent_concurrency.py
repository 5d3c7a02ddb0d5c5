"""The urgent button under real concurrency, on PostgreSQL: threads, not mocks.

A patient's tap while clinicians load that patient's chart, and two taps at once (a
double tap on a phone), each save exactly one request and never answer an error.
Before the audit trail stopped locking its chain head, a tap during chart loads was
lost to a deadlock and double taps were told "your care team has NOT been told"
(issue 12). Run with DATABASE_URL=postgres://... (CI does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from tether.crisis import services
from tether.crisis.models import UrgentContactRequest
from tether.testing.cast import build_cast, sign_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks and deadlocks need PostgreSQL; run with DATABASE_URL=postgres://…",
    ),
]

ROUNDS = 6
CHART_READERS = 4
LOADS_PER_READER = 4


def _in_threads(jobs: list[Callable[[], None]]) -> list[BaseException]:
    """Run every job in its own thread, all released at once; return what they raised."""
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def _close_open_requests(cast) -> None:
    for request in UrgentContactRequest.objects.exclude(status=UrgentContactRequest.Status.CLOSED):
        services.urgent_contact_close(
            request=request,
            user=cast.assigned_clinician,
            contact_method="phone",
            outcome="safe_plan",
            safety_plan_reviewed=True,
            next_step="",
        )


def _status_url(response) -> str:
    return str(response.headers.get("Location", ""))


@pytest.fixture
def people():
    cast = build_cast()
    return cast


def test_a_tap_while_the_chart_is_loading_saves_one_request_and_no_errors(people):
    cast = people
    patient = cast.patient.patient
    chart = reverse("staff:patient_detail", args=[patient.pk])
    tap_answers: list[int] = []
    tap_targets: list[str] = []
    chart_answers: list[int] = []

    def tap() -> None:
        response = sign_in(Client(), cast.patient).post(reverse("crisis:urgent_request"))
        tap_answers.append(response.status_code)
        tap_targets.append(_status_url(response))

    def load_chart() -> None:
        client = sign_in(Client(), cast.assigned_clinician)
        for _ in range(LOADS_PER_READER):
            chart_answers.append(client.get(chart).status_code)

    for _ in range(ROUNDS):
        errors = _in_threads([tap] + [load_chart] * CHART_READERS)
        assert not errors, errors
        assert UrgentContactRequest.objects.exclude(status="closed").count() == 1
        _close_open_requests(cast)

    assert tap_answers == [302] * ROUNDS, tap_answers
    assert all("/crisis/urgent/" in target for target in tap_targets), tap_targets
    assert chart_answers == [200] * (ROUNDS * CHART_READERS * LOADS_PER_READER)
    assert UrgentContactRequest.objects.count() == ROUNDS
    print(f"\n{ROUNDS} taps during {len(chart_answers)} chart loads: 0 lost, 0 errors")


def test_a_double_tap_saves_one_request_and_tells_the_patient_it_was_received(people):
    cast = people
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def tap() -> None:
        response = sign_in(Client(), cast.patient).post(reverse("crisis:urgent_request"))
        with lock:
            answers.append((response.status_code, _status_url(response)))

    for round_number in range(ROUNDS):
        errors = _in_threads([tap, tap])
        assert not errors, errors
        [open_request] = UrgentContactRequest.objects.exclude(status="closed")
        expected = reverse("crisis:urgent_status", args=[open_request.pk])
        assert answers[-2:] == [(302, expected), (302, expected)], (round_number, answers[-2:])
        # Both taps are on the request's record; one request for the team.
        assert open_request.events.filter(kind="raised").count() == 2
        _close_open_requests(cast)

    assert UrgentContactRequest.objects.count() == ROUNDS
    print(f"\n{ROUNDS} double taps: {ROUNDS} requests, 0 'not told' answers")


def test_the_escalation_sweep_does_not_lock_the_organization_or_the_program(people):
    """FOR UPDATE with select_related once locked the joined organization row too: an
    insert naming the organization then waited on the sweep. Lock the request alone."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    cast = people
    request = services.urgent_contact_raise(patient=cast.patient.patient, source="patient_button")
    later = timezone.now() + dt.timedelta(hours=1)
    UrgentContactRequest.objects.filter(pk=request.pk).update(escalate_at=timezone.now())
    blocked: list[bool] = []
    inside = threading.Event()
    release = threading.Event()

    def sweep_holding_its_locks() -> None:
        with transaction.atomic():
            services._escalate_once(request.pk, now=later)
            inside.set()
            release.wait(10)

    def touch_organization() -> None:
        inside.wait(10)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            try:
                cursor.execute(
                    "SELECT 1 FROM organizations_organization WHERE id = %s FOR KEY SHARE",
                    [cast.organization.pk],
                )
                cursor.execute(
                    "SELECT 1 FROM organizations_program WHERE id = %s FOR KEY SHARE",
                    [cast.iop.pk],
                )
                blocked.append(False)
            except Exception:
                blocked.append(True)
        release.set()

    errors = _in_threads([sweep_holding_its_locks, touch_organization])
    assert not errors, errors
    assert blocked == [False]
