"""Snooze: a clinician keeps a flag quiet until a date, with a reason; audited, shown
to the clinical lead, refused to the wrong people and for safety flags."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from tether.flags import selectors
from tether.flags.models import Flag
from tether.flags.services import flag_snooze, flags_sweep
from tether.flags.testing import add_response
from tether.patients.models import Episode
from tether.privacy.models import AuditEvent


@pytest.fixture
def flagged(cast):
    """Garcia's PHQ-9 rose 9 points: one open deterioration flag."""
    from tether.accounts.models import User

    now = timezone.now()
    Episode.objects.update(admitted_on=(now - dt.timedelta(days=3)).date())
    User.objects.filter(kind="patient").update(last_login=now - dt.timedelta(hours=1))
    add_response(cast.patient.patient, "phq9", now - dt.timedelta(days=20), total=5)
    add_response(cast.patient.patient, "phq9", now - dt.timedelta(days=1), total=14)
    flags_sweep(now=now)
    return Flag.objects.get(reason="phq9_deterioration")


def test_a_snoozed_flag_stays_quiet_until_its_date(cast, flagged):
    today = timezone.localdate()
    until = today + dt.timedelta(days=5)
    flag_snooze(
        actor=cast.assigned_clinician, flag=flagged, until=until, reason="Seen in session today"
    )
    lead = cast.clinical_lead
    for days in range(5):
        day = today + dt.timedelta(days=days)
        assert flagged.pk not in [f.pk for f in selectors.open_queue(user=lead, today=day)]
        assert [f.pk for f in selectors.snoozed_queue(user=lead, today=day)] == [flagged.pk]
        # The condition persists: the sweep raises no second flag meanwhile.
        when = timezone.now() + dt.timedelta(days=days, minutes=15)
        assert flags_sweep(now=when) == {}
    assert [f.pk for f in selectors.open_queue(user=lead, today=until)] == [flagged.pk]
    assert selectors.snoozed_queue(user=lead, today=until) == []
    flagged.refresh_from_db()
    assert (flagged.status, flagged.snooze_reason, flagged.snoozed_by) == (
        "open",
        "Seen in session today",
        cast.assigned_clinician,
    )
    event = AuditEvent.objects.filter(
        object_type="flags.flag", action="create", actor__isnull=False
    ).get()
    assert (event.actor_id, event.patient_id, event.object_id, event.outcome) == (
        cast.assigned_clinician.pk,
        cast.patient.patient.pk,
        str(flagged.pk),
        "allowed",
    )


def test_the_lead_sees_who_snoozed_it_until_when_and_why(cast, flagged, client_as):
    client = client_as(cast.assigned_clinician)
    url = reverse("flags:snooze", args=[flagged.pk])
    until = timezone.localdate() + dt.timedelta(days=3)
    response = client.post(url, {"until": until.isoformat(), "reason": "On holiday, back Monday"})
    assert response.status_code == 302
    body = client_as(cast.clinical_lead).get(reverse("flags:queue")).content.decode()
    assert "Snoozed flags" in body and "On holiday, back Monday" in body
    assert cast.assigned_clinician.get_full_name() in body
    assert "PHQ-9 reliable deterioration" in body  # in the snoozed table, not the queue
    assert f'action="{reverse("flags:act", args=[flagged.pk])}"' not in body


def test_bad_input_is_refused_with_a_message_and_what_was_typed_stays(cast, flagged, client_as):
    client = client_as(cast.assigned_clinician)
    url = reverse("flags:snooze", args=[flagged.pk])
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = client.post(url, {"until": past, "reason": "Waiting for the GP letter"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose a date after today." in body and "Waiting for the GP letter" in body
    far = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
    response = client.post(url, {"until": far, "reason": "Later"})
    assert "28 days at most" in response.content.decode()
    flagged.refresh_from_db()
    assert flagged.snoozed_until is None
    assert not AuditEvent.objects.filter(
        object_type="flags.flag", action="create", actor__isnull=False
    ).exists()


def test_the_right_people_open_the_snooze_page(cast, flagged, client_as):
    url = reverse("flags:snooze", args=[flagged.pk])
    for person in (cast.assigned_clinician, cast.clinical_lead, cast.on_call):
        body = client_as(person).get(url).content.decode()
        assert "Quiet until" in body and flagged.why in body, person.username


def test_the_wrong_people_cannot_snooze(cast, flagged, client_as):
    until = timezone.localdate() + dt.timedelta(days=3)
    url = reverse("flags:snooze", args=[flagged.pk])
    for person in (
        cast.front_desk,
        cast.privacy_officer,
        cast.program_admin,
        cast.other_org_clinician,
        cast.patient,
    ):
        client = client_as(person)
        assert client.get(url).status_code in (302, 403, 404), person.username
        response = client.post(url, {"until": until.isoformat(), "reason": "x"})
        assert response.status_code in (302, 403, 404), person.username
        if response.status_code == 302:  # a patient is sent to sign in as staff
            assert "flags" not in response["Location"]
        with pytest.raises(PermissionDenied):
            flag_snooze(actor=person, flag=flagged, until=until, reason="x")
    flagged.refresh_from_db()
    assert flagged.snoozed_until is None


def test_a_safety_flag_cannot_be_snoozed(cast, flagged):
    Flag.objects.filter(pk=flagged.pk).update(kind="safety")
    flagged.refresh_from_db()
    with pytest.raises(ValidationError, match="safety flag cannot be snoozed"):
        flag_snooze(
            actor=cast.clinical_lead,
            flag=flagged,
            until=timezone.localdate() + dt.timedelta(days=2),
            reason="x",
        )


def test_the_caseload_board_does_not_count_a_snoozed_flag_until_its_date(cast, flagged):
    from tether.staff.caseload import caseload_for

    def count(now: dt.datetime) -> int:
        rows = caseload_for(user=cast.assigned_clinician, now=now)
        return int(next(r.open_flags for r in rows if r.pk == cast.patient.patient.pk))

    now = timezone.now()
    assert count(now) == 1
    until = timezone.localdate(now) + dt.timedelta(days=2)
    flag_snooze(actor=cast.assigned_clinician, flag=flagged, until=until, reason="Seen today")
    assert count(now) == 0
    assert count(now + dt.timedelta(days=2)) == 1
