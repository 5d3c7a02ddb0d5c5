"""What one check-in submit costs the database: a fixed number of queries and one
commit, with the access's audit event, the response and the service's own event in that
commit, and the flag evaluation stored as a task in it (issue #20; the rate is in
docs/BENCHMARKS.md, ``scripts/bench_checkin_submit.py``).

Transactional tests: the server's own autocommit behaviour, so commits can be counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from tether.checkins.models import ProgramInstrument, Response
from tether.checkins.sync import sync_instruments
from tether.privacy.models import AuditEvent, AuditPending

pytestmark = pytest.mark.django_db(transaction=True)

# The submit's budget: 2 from the middleware (the session; the user, read with whether
# they have a multi-factor device, their program's time zone and their patient row, which
# the gate uses), the response locked with what the submit
# reads (1), its answers (1), the response's update (1), both audit events (2 inserts:
# event rows and the sealer's queue) and the flag evaluation's task row (1).
SUBMIT_QUERIES = 8


@contextmanager
def _commits() -> Iterator[list[str]]:
    """Every transaction that wrote: ``commit()`` calls, and writes in autocommit."""
    seen: list[str] = []
    real = connection.connection  # the open DB-API connection (psycopg / sqlite3)
    assert real is not None

    def counted(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        # (SQLite's atomic block opens with "BEGIN IMMEDIATE", sent before it counts as
        # inside one: the transaction's start, not a write.)
        if not connection.in_atomic_block and not sql.lstrip().upper().startswith(
            ("SELECT", "BEGIN")
        ):
            seen.append(f"autocommit: {sql[:60]}")
        return execute(sql, *args)

    original = connection.commit

    def commit() -> None:
        seen.append("commit")
        original()

    with mock.patch.object(connection, "commit", commit), connection.execute_wrapper(counted):
        yield seen


@contextmanager
def _no_key_derivation() -> Iterator[None]:
    """Fail if the request hashes a password or derives a key."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("password hashing or key derivation during a submit")

    with (
        mock.patch("django.contrib.auth.hashers.check_password", refuse),
        mock.patch("django.contrib.auth.hashers.make_password", refuse),
        mock.patch("django.contrib.auth.hashers.get_hasher", refuse),
        mock.patch("argon2.PasswordHasher.verify", refuse),
        mock.patch("argon2.PasswordHasher.hash", refuse),
        mock.patch.object(hashlib, "pbkdf2_hmac", refuse),
        mock.patch.object(hashlib, "scrypt", refuse),
        mock.patch("tether.lib.crypto.KeyRing.__init__", refuse),
    ):
        yield


@pytest.fixture
def answered(cast: Any, client_as: Any) -> tuple[Any, Response]:
    """The patient signed in, a PHQ-9 answered (total 8, item 9 "not at all") and not
    sent yet."""
    sync_instruments()  # transactional tests empty the table the migration filled
    schedule = ProgramInstrument.objects.create(
        organization=cast.organization, program=cast.iop, instrument_code="phq9", schedule="weekly"
    )
    client = client_as(cast.patient)
    client.post(reverse("checkins:start", args=[schedule.pk]))
    draft = Response.objects.get(patient=cast.patient.patient, instrument__code="phq9")
    for position in range(1, 10):
        client.post(
            reverse("checkins:question", kwargs={"key": draft.key, "position": position}),
            {"answer": "0" if position == 9 else "1"},  # no risk answer: no crisis path
        )
    client.get(reverse("portal:home"))  # the session's timestamps are fresh
    return client, draft


def test_a_submit_is_one_commit_and_a_fixed_number_of_queries(answered, settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    client, draft = answered
    events_before = AuditEvent.objects.count()
    with (
        _no_key_derivation(),
        CaptureQueriesContext(connection) as queries,
        _commits() as commits,
    ):
        page = client.post(reverse("checkins:finish", kwargs={"key": draft.key}))
    assert page.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.total) == ("complete", 8)
    assert commits == ["commit"], commits
    # Statements sent, not counting the transaction's BEGIN and COMMIT (counted above).
    statements = [
        q["sql"] for q in queries if not q["sql"].startswith("BEGIN") and q["sql"] != "COMMIT"
    ]
    assert len(statements) == SUBMIT_QUERIES, "\n".join(sql[:120] for sql in statements)
    # Both events are in the trail and queued for the sealer: the gate's access and
    # the response's update.
    new = AuditEvent.objects.order_by("pk")[events_before:]
    assert [(e.action, e.object_type) for e in new] == [
        ("update", ""),
        ("update", "checkins.response"),
    ]
    assert AuditPending.objects.filter(event__in=new).count() == 2
    # The worker's task to evaluate the patient's flag rules, stored in the same commit.
    task = DBTaskResult.objects.get(task_path="tether.flags.tasks.evaluate_patient_flags")
    assert task.args_kwargs == {"args": [draft.patient_id], "kwargs": {}}


def test_a_submit_with_answers_missing_writes_nothing_but_the_access(answered):
    client, draft = answered
    draft.answers.filter(item_code="9").delete()
    events_before = AuditEvent.objects.count()
    page = client.post(reverse("checkins:finish", kwargs={"key": draft.key}))
    assert page.status_code == 200
    assert "Over the last 2 weeks" in page.content.decode() or page.context["missing"]
    draft.refresh_from_db()
    assert draft.status == "draft"
    # The update rolled back; the patient's access is still in the trail, once.
    new = AuditEvent.objects.order_by("pk")[events_before:]
    assert list(new.values_list("action", "object_type")) == [("update", "")]
    assert not DBTaskResult.objects.exists()


def test_a_second_submit_changes_nothing_and_is_still_audited(answered):
    client, draft = answered
    finish = reverse("checkins:finish", kwargs={"key": draft.key})
    client.post(finish)
    events_before = AuditEvent.objects.count()
    again = client.post(finish, follow=True)
    assert "You already sent this one" in again.content.decode()
    draft.refresh_from_db()
    assert draft.status == "complete"
    assert AuditEvent.objects.count() > events_before  # the access of the second POST
