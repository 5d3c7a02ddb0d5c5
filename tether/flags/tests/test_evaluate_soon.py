"""Flag rules evaluated at once when relevant data arrives: the sweep's own set-based
queries restricted to one patient, run by the worker after the commit."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tether.accounts.models import User
from tether.checkins.models import ProgramInstrument, Response
from tether.checkins.sync import sync_instruments
from tether.crisis.models import UrgentContactRequest
from tether.crisis.services import urgent_contact_raise
from tether.flags.models import Flag, FlagRule
from tether.flags.services import (
    evaluate_soon,
    flags_evaluate_patient,
    flags_sweep,
    rules_ensure_defaults,
)
from tether.flags.testing import add_response
from tether.homework.library import builtin_library
from tether.homework.services import assignment_complete, assignment_create
from tether.messaging.models import Message
from tether.messaging.services import message_send_by_patient
from tether.patients.models import Episode
from tether.privacy.models import AuditEvent, Purpose

IMMEDIATE = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default"],
    }
}
TASK_PATH = "tether.flags.tasks.evaluate_patient_flags"


@pytest.fixture
def quiet(cast: Any) -> Any:
    """Everyone signed in an hour ago and was admitted three days ago: no
    disengagement flags, nothing for a rule to find until the test adds it."""
    now = timezone.now()
    User.objects.filter(kind="patient").update(last_login=now - dt.timedelta(hours=1))
    Episode.objects.update(admitted_on=(now - dt.timedelta(days=3)).date())
    return cast


@pytest.fixture
def worker_runs_at_once(settings: Any) -> None:
    """The worker as the ImmediateBackend: an enqueued task runs in-process."""
    settings.TASKS = IMMEDIATE


def _reasons(user: Any) -> set[str]:
    return set(
        Flag.objects.filter(patient=user.patient, status="open").values_list("reason", flat=True)
    )


def _phq9_baseline(user: Any, total: int = 4) -> None:
    add_response(user.patient, "phq9", timezone.now() - dt.timedelta(days=20), total=total)


def test_one_patients_evaluation_raises_only_their_flags(quiet):
    for user in (quiet.patient, quiet.other_patient):
        _phq9_baseline(user)
        add_response(user.patient, "phq9", timezone.now() - dt.timedelta(days=1), total=15)
    assert flags_evaluate_patient(quiet.patient.patient.pk) == {"phq9_deterioration": 1}
    assert _reasons(quiet.patient) == {"phq9_deterioration"}
    assert _reasons(quiet.other_patient) == set()
    # The same rule, the same SQL: the periodic sweep finds only the one left.
    assert flags_sweep() == {"phq9_deterioration": 1}
    assert flags_evaluate_patient(quiet.patient.patient.pk) == {}
    assert AuditEvent.objects.filter(object_type="flags.flag", action="create").count() == 2


def test_a_patient_without_an_active_episode_is_evaluated_to_nothing(quiet):
    _phq9_baseline(quiet.patient)
    add_response(quiet.patient.patient, "phq9", timezone.now(), total=20)
    Episode.objects.filter(patient=quiet.patient.patient).update(
        status="discharged", discharged_on=timezone.localdate(), discharge_reason="completed"
    )
    assert flags_evaluate_patient(quiet.patient.patient.pk) == {}
    assert not Flag.objects.exists()


def test_submitting_a_deteriorating_phq9_raises_the_flag_without_a_sweep(
    quiet, client_as, worker_runs_at_once, django_capture_on_commit_callbacks
):
    sync_instruments()
    schedule = ProgramInstrument.objects.create(
        organization=quiet.organization,
        program=quiet.iop,
        instrument_code="phq9",
        schedule="weekly",
    )
    _phq9_baseline(quiet.patient)
    client = client_as(quiet.patient)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("checkins:start", args=[schedule.pk]))
        draft = Response.objects.get(patient=quiet.patient.patient, status="draft")
        for position, value in enumerate([2, 2, 2, 2, 2, 2, 2, 2, 0, 1], start=1):
            client.post(
                reverse("checkins:question", kwargs={"key": draft.key, "position": position}),
                {"answer": str(value)},
            )
    draft.refresh_from_db()
    assert (draft.status, draft.total) == ("complete", 16)
    flag = Flag.objects.get(patient=quiet.patient.patient, reason="phq9_deterioration")
    assert flag.why == "PHQ-9 is 12 points above the baseline of this episode."
    # The clinical lead sees it in the queue straight away.
    body = client_as(quiet.clinical_lead).get(reverse("flags:queue")).content.decode()
    assert "PHQ-9 is 12 points above the baseline of this episode." in body


def test_a_crisis_phrase_message_raises_one_crisis_language_flag_at_once(
    quiet, worker_runs_at_once, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message_send_by_patient(
            patient=quiet.patient.patient,
            author=quiet.patient,
            body="I don't want to be alive anymore",
        )
    assert Message.objects.get(author_kind="patient").trigger == "phrase"
    # One event, one flag: the urgent request the system raised for it is not the patient
    # using the crisis pathway (crisis.models.PATIENT_ASKED_SOURCES).
    assert _reasons(quiet.patient) == {"crisis_language"}
    # The message and the urgent request it raised share one evaluation.
    flagged = [c for c in callbacks if getattr(c, "__qualname__", "").startswith("evaluate_soon")]
    assert len(flagged) == 1


def test_an_ordinary_message_raises_nothing(
    quiet, worker_runs_at_once, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message_send_by_patient(
            patient=quiet.patient.patient, author=quiet.patient, body="See you on Tuesday"
        )
    assert not Flag.objects.exists()


def test_an_urgent_request_from_the_crisis_page_raises_the_pathway_flag_at_once(
    quiet, worker_runs_at_once, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        urgent_contact_raise(
            patient=quiet.patient.patient,
            source=UrgentContactRequest.Source.PATIENT_BUTTON,
            actor=quiet.patient,
        )
    assert _reasons(quiet.patient) == {"crisis_pathway"}


def test_completing_homework_late_evaluates_the_homework_rule(
    quiet, worker_runs_at_once, django_capture_on_commit_callbacks
):
    rules_ensure_defaults()  # the program asks for a flag at two late assignments
    # (and turns the single-signal rule on: it is off by default since the combined rule)
    FlagRule.objects.filter(program=quiet.iop, code="homework_late").update(
        threshold=2, enabled=True
    )
    definition = builtin_library()["thought_record"]
    today = timezone.localdate()
    late = [
        assignment_create(
            patient=quiet.patient.patient,
            definition=definition,
            assigned_by=quiet.assigned_clinician,
            due_on=today - dt.timedelta(days=days),
            starts_on=today - dt.timedelta(days=days + 7),
        )
        for days in (20, 13, 6, 3)  # the default threshold is 4 late in 28 days
    ]
    assert not Flag.objects.exists()  # nothing evaluated yet: no sweep has run
    with django_capture_on_commit_callbacks(execute=True):
        assignment_complete(assignment=late[-1], actor=quiet.patient, purpose=Purpose.TREATMENT)
    assert _reasons(quiet.patient) == {"homework_late"}


def test_with_the_database_backend_the_worker_gets_the_task_and_running_it_flags(
    quiet, django_capture_on_commit_callbacks
):
    """The project's real backend stores the task; the worker (``db_worker``) runs it."""
    _phq9_baseline(quiet.patient)
    with django_capture_on_commit_callbacks(execute=True):
        add_response(quiet.patient.patient, "phq9", timezone.now(), total=20)
        evaluate_soon(quiet.patient.patient.pk)
    assert not Flag.objects.exists()  # not yet: the worker has not run
    stored = DBTaskResult.objects.get(task_path=TASK_PATH)
    assert stored.args_kwargs == {"args": [quiet.patient.patient.pk], "kwargs": {}}
    assert stored.task.call(*stored.args_kwargs["args"]) == 1
    assert _reasons(quiet.patient) == {"phq9_deterioration"}


def test_nothing_is_enqueued_when_the_submission_rolls_back(
    quiet, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        evaluate_soon(quiet.patient.patient.pk)
        raise RuntimeError("the submission failed")
    assert not DBTaskResult.objects.filter(task_path=TASK_PATH).exists()


def test_a_failing_evaluation_never_loses_the_patients_message(
    quiet, worker_runs_at_once, django_capture_on_commit_callbacks
):
    with (
        mock.patch("tether.flags.services.flags_sweep", side_effect=RuntimeError("db down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = message_send_by_patient(
            patient=quiet.patient.patient,
            author=quiet.patient,
            body="I don't want to be alive anymore",
        )
    assert result.created
    assert Message.objects.filter(pk=result.message.pk).exists()
    assert UrgentContactRequest.objects.count() == 1
    assert not Flag.objects.exists()  # the next sweep will raise it


def test_a_failing_enqueue_never_loses_the_patients_message(
    quiet, django_capture_on_commit_callbacks
):
    with (
        mock.patch("tether.flags.services._enqueue_evaluation", side_effect=RuntimeError("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = message_send_by_patient(
            patient=quiet.patient.patient, author=quiet.patient, body="Running late today"
        )
    assert Message.objects.filter(pk=result.message.pk).exists()
