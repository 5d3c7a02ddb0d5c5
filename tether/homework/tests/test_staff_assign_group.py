from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone

from tether.homework.models import Assignment
from tether.privacy.models import AuditEvent
from tether.scheduling.models import Appointment, Attendance


def _group(cast: Any, *users: Any) -> Appointment:
    starts = timezone.now() - dt.timedelta(hours=2)
    appointment = Appointment.objects.create(
        organization=cast.organization,
        program=cast.iop,
        kind=Appointment.Kind.GROUP,
        title="DBT skills group",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
    )
    for user in users:
        Attendance.objects.create(
            organization=cast.organization,
            appointment=appointment,
            patient=user.patient,
            episode=user.patient.episodes.get(),
        )
    return appointment


def _url(appointment: Appointment) -> str:
    return reverse("homework:staff_assign_group", args=[appointment.pk])


def test_it_assigns_to_every_attendee_the_clinician_may_assign_to(cast, client_as):
    group = _group(cast, cast.patient, cast.other_patient)
    client = client_as(cast.assigned_clinician)
    body = client.get(_url(group)).content.decode()
    assert "Maria" in body and "Tom" not in body  # Tom is not on Dana's care team
    assert "1 attendee is not on your care team and is left out." in body
    due = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    response = client.post(_url(group), {"template": "dbt_diary_card", "due_on": due})
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert assignment.patient == cast.patient.patient and assignment.appointment == group
    assert (
        AuditEvent.objects.filter(object_type="homework.assignment", action="create").count() == 1
    )


def test_the_patient_assign_page_links_to_their_group_sessions(cast, client_as):
    group = _group(cast, cast.patient)
    url = reverse("homework:staff_assign", args=[cast.patient.patient.pk])
    assert _url(group) in client_as(cast.assigned_clinician).get(url).content.decode()


def test_it_checks_access(cast, client_as):
    group = _group(cast, cast.patient)
    assert client_as(cast.assigned_clinician).get(_url(group)).status_code == 200
    for persona in (
        "patient",
        "front_desk",
        "clinical_lead",
        "unassigned_clinician",
        "other_org_clinician",
    ):
        assert client_as(getattr(cast, persona)).get(_url(group)).status_code == 404
    assert AuditEvent.objects.filter(outcome="denied", category="shared").count() >= 4
