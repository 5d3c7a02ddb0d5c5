"""A sweep never holds a lock that a page view waits on (issue #20: a first sweep once
held its organization's audit lock for minutes and a page view waited 139 s).

Real threads, real PostgreSQL connections. The sweep is stopped inside its transaction,
right after it wrote its new flags and their audit events and before it commits; a
clinician then opens a patient's page (an audited read in the same organization) and
the sealer runs. Both must finish while the sweep's transaction is still open. The test
does not time anything: it watches ``pg_stat_activity`` for a session waiting on a lock,
and fails as soon as one does.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import User
from tether.flags.models import Flag
from tether.flags.services import flags_sweep
from tether.flags.testing import add_response
from tether.patients.models import Episode
from tether.privacy import audit
from tether.privacy.chain import verify_chain
from tether.privacy.models import AuditEvent
from tether.privacy.sealer import seal_pending

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks between sessions: PostgreSQL only"
    ),
]

# Guards against a hang only (a broken test must not wait forever); never a speed limit.
HANG_GUARD_SECONDS = 300


def _sessions_waiting_on_a_lock() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT left(query, 80) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_page_view_and_the_sealer_finish_while_a_sweep_holds_its_transaction(
    cast: Any, client_as: Any
) -> None:
    now = timezone.now()
    User.objects.filter(kind="patient").update(last_login=now - dt.timedelta(hours=2))
    Episode.objects.update(admitted_on=(now - dt.timedelta(days=3)).date())
    patient = cast.patient.patient
    # A PHQ-9 12 points above the episode's first: the sweep raises a flag for it.
    add_response(patient, "phq9", now - dt.timedelta(days=20), total=4)
    add_response(patient, "phq9", now - dt.timedelta(days=2), total=16)
    client = client_as(cast.assigned_clinician)
    page_url = reverse("staff:patient_detail", args=[patient.pk])
    assert client.get(page_url).status_code == 200  # warm: the page works on its own

    appended = threading.Event()
    release = threading.Event()
    outcome: dict[str, Any] = {}
    real_append_many = audit.append_many

    def append_then_pause(events: list[AuditEvent]) -> list[AuditEvent]:
        written = real_append_many(events)
        if threading.current_thread().name == "sweep":
            appended.set()  # the flags and their events are written, not committed
            release.wait(HANG_GUARD_SECONDS)
        return written

    def sweep() -> None:
        try:
            outcome["raised"] = flags_sweep(now=now)
        except BaseException as exc:  # reported by the main thread
            outcome["sweep_error"] = exc
        finally:
            appended.set()
            connection.close()

    def page_view_then_sealer() -> None:
        try:
            outcome["status"] = client.get(page_url).status_code
            outcome["sealed"] = seal_pending()
            # Seen from outside the sweep: the page's event is committed, the sweep's
            # flags are not.
            outcome["flags_seen"] = Flag.objects.filter(patient=patient).count()
        except BaseException as exc:
            outcome["view_error"] = exc
        finally:
            connection.close()

    events_before = AuditEvent.objects.count()
    with mock.patch.object(audit, "append_many", append_then_pause):
        sweeper = threading.Thread(target=sweep, name="sweep")
        sweeper.start()
        try:
            assert appended.wait(HANG_GUARD_SECONDS), "the sweep never reached its audit append"
            assert "sweep_error" not in outcome, outcome.get("sweep_error")
            viewer = threading.Thread(target=page_view_then_sealer, name="page view")
            viewer.start()
            waiting: list[str] = []
            deadline = time.monotonic() + HANG_GUARD_SECONDS
            while viewer.is_alive() and not waiting and time.monotonic() < deadline:
                waiting = _sessions_waiting_on_a_lock()
                viewer.join(0.02)
            # The decisive checks, taken while the sweep's transaction is still open.
            sweep_still_open = sweeper.is_alive()
            view_done = not viewer.is_alive()
        finally:
            release.set()
            sweeper.join(HANG_GUARD_SECONDS)
        viewer.join(HANG_GUARD_SECONDS)

    assert waiting == [], f"a session waited on a lock held by the sweep: {waiting}"
    assert view_done, "the page view did not finish while the sweep was running"
    assert sweep_still_open  # the page view really ran inside the sweep's transaction
    assert "view_error" not in outcome, outcome.get("view_error")
    assert outcome["status"] == 200
    assert outcome["flags_seen"] == 0  # the sweep had not committed yet
    # Then the sweep commits its flag and its event; everything seals into one intact chain.
    assert outcome["raised"] == {"phq9_deterioration": 1}
    assert Flag.objects.filter(patient=patient, reason="phq9_deterioration").count() == 1
    assert AuditEvent.objects.count() > events_before + 1
    seal_pending()
    report = verify_chain(cast.organization.pk)
    assert report.intact, report.problem
    assert report.unsealed == 0
