from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from tether.crisis.models import UrgentContactRequest
from tether.demo.stories import Story, username_for
from tether.messaging.models import Message, Thread
from tether.messaging.selectors import inbox
from tether.patients.models import Patient


@pytest.fixture
def seeded(db: Any, settings: Any) -> None:
    settings.DEBUG = False
    settings.TETHER_DEMO = True
    settings.TETHER_STAFF_MFA_REQUIRED = False
    call_command("seed_demo", stdout=StringIO())


def _patient(story: Story) -> Patient:
    return Patient.objects.get(user__username=username_for(story))


def test_it_builds_answered_overdue_and_crisis_threads(seeded: None) -> None:
    rows = {r.thread.patient_id: r for r in inbox(patients=Patient.objects.all())}
    assert rows[_patient(Story.SUBSTANCE_USE).pk].overdue
    assert not rows[_patient(Story.IMPROVING).pk].overdue
    crisis = Message.objects.get(thread__patient=_patient(Story.DETERIORATING), trigger="phrase")
    assert crisis.urgent_request is not None
    assert crisis.urgent_request.status == UrgentContactRequest.Status.CLOSED
    assert crisis.urgent_request.safety_plan_reviewed
    assert Thread.objects.filter(kind=Thread.Kind.PATIENT).count() == 3
    # And the adolescent's parent's family thread (the family step).
    assert Thread.objects.filter(kind=Thread.Kind.FAMILY).count() == 1


def test_it_leaves_one_request_open(seeded: None) -> None:
    open_request = UrgentContactRequest.objects.exclude(status="closed").get()
    assert open_request.patient == _patient(Story.ADOLESCENT)
    assert open_request.escalate_at is not None
    assert open_request.escalate_at > timezone.now()
