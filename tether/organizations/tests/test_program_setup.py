"""Program set-up by its admin: questionnaires and their schedule, the on-call rota; and
the care team (clinical lead and program admin). Right and wrong people, bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.checkins.models import ProgramInstrument
from tether.checkins.sync import sync_instruments
from tether.organizations.models import OnCallShift
from tether.patients.models import CareTeamMember
from tether.privacy.models import AuditEvent

pytestmark = pytest.mark.django_db
SETUP = "program:setup"
NOT_ADMINS = (
    "assigned_clinician",
    "unassigned_clinician",
    "clinical_lead",
    "on_call",
    "front_desk",
    "privacy_officer",
    "other_org_clinician",
    "patient",
    "parent",
)


def _local(cast: Any, days: int, hour: int) -> str:
    day = timezone.now().astimezone(cast.iop.tzinfo).date() + dt.timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00"


def _shift_form(cast: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "program": cast.iop.pk,
        "action": "add_shift",
        "staff_member": cast.unassigned_clinician.staff_member.pk,
        "starts_at": _local(cast, 1, 17),
        "ends_at": _local(cast, 2, 9),
    }
    data.update(overrides)
    return data


def test_the_admin_turns_on_a_questionnaire_and_sets_when(cast: Any, client_as: Any) -> None:
    sync_instruments()
    client = client_as(cast.program_admin)
    url = reverse(SETUP)
    assert client.get(url, {"program": cast.iop.pk}).status_code == 200
    data = {"program": cast.iop.pk, "action": "instrument", "instrument": "phq9"}
    assert client.post(url, {**data, "schedule": "before_session"}).status_code == 302
    row = ProgramInstrument.objects.get(program=cast.iop, instrument_code="phq9")
    assert (row.schedule, row.is_active) == ("before_session", True)
    assert client.post(url, {**data, "schedule": "off"}).status_code == 302
    row.refresh_from_db()
    assert not row.is_active
    assert (
        AuditEvent.objects.filter(
            object_type="checkins.programinstrument", actor=cast.program_admin
        ).count()
        == 2
    )


def test_the_admin_puts_a_shift_on_the_rota(cast: Any, client_as: Any) -> None:
    response = client_as(cast.program_admin).post(reverse(SETUP), _shift_form(cast))
    assert response.status_code == 302
    shift = OnCallShift.objects.get()
    assert shift.starts_at.astimezone(cast.iop.tzinfo).hour == 17
    assert AuditEvent.objects.filter(object_type="organizations.oncallshift").exists()


def test_a_shift_that_ends_before_it_starts_is_refused_and_kept(cast: Any, client_as: Any) -> None:
    response = client_as(cast.program_admin).post(
        reverse(SETUP), _shift_form(cast, ends_at=_local(cast, 1, 9))
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "The shift ends before it starts." in body
    assert _local(cast, 1, 9) in body
    assert not OnCallShift.objects.exists()


@pytest.mark.parametrize("persona", NOT_ADMINS)
def test_it_checks_access_and_the_wrong_people_cannot_post(
    cast: Any, client_as: Any, persona: str
) -> None:
    client = client_as(getattr(cast, persona))
    assert client.get(reverse(SETUP)).status_code == 404
    assert client.post(reverse(SETUP), _shift_form(cast)).status_code == 404
    assert not OnCallShift.objects.exists()


def test_an_admin_of_other_programs_cannot_set_this_one(cast: Any, client_as: Any) -> None:
    cast.program_admin.staff_member.programs.set([cast.adolescent_iop])
    response = client_as(cast.program_admin).post(reverse(SETUP), _shift_form(cast))
    assert response.status_code == 404


def test_the_admin_sees_the_care_team_but_only_the_lead_changes_it(
    cast: Any, client_as: Any
) -> None:
    url = reverse("program:care_team", args=[cast.patient.patient.pk])
    client = client_as(cast.program_admin)
    assert "Dana" in client.get(url).content.decode()
    data = {
        "action": "assign",
        "staff_member": cast.unassigned_clinician.staff_member.pk,
        "role": "case_manager",
    }
    assert client.post(url, data).status_code == 404
    assert not CareTeamMember.objects.filter(role="case_manager").exists()


@pytest.mark.parametrize("persona", ("clinical_lead",))
def test_the_lead_assigns_the_care_team(cast: Any, client_as: Any, persona: str) -> None:
    url = reverse("program:care_team", args=[cast.patient.patient.pk])
    client = client_as(getattr(cast, persona))
    assert "Dana" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "action": "assign",
            "staff_member": cast.unassigned_clinician.staff_member.pk,
            "role": "case_manager",
        },
    )
    assert response.status_code == 302
    member = CareTeamMember.objects.get(
        staff_member=cast.unassigned_clinician.staff_member, episode__patient=cast.patient.patient
    )
    assert client.post(url, {"action": "end", "member": member.pk}).status_code == 302
    member.refresh_from_db()
    assert member.ended_on is not None


def test_someone_already_on_the_team_is_refused(cast: Any, client_as: Any) -> None:
    url = reverse("program:care_team", args=[cast.patient.patient.pk])
    response = client_as(cast.clinical_lead).post(
        url,
        {
            "action": "assign",
            "staff_member": cast.assigned_clinician.staff_member.pk,
            "role": "case_manager",
        },
    )
    assert response.status_code == 400
    assert "on the team already" in response.content.decode()


@pytest.mark.parametrize(
    "persona",
    (
        "assigned_clinician",
        "unassigned_clinician",
        "on_call",
        "front_desk",
        "privacy_officer",
        "other_org_clinician",
        "patient",
        "parent",
    ),
)
def test_the_care_team_page_checks_access_and_posts(
    cast: Any, client_as: Any, persona: str
) -> None:
    url = reverse("program:care_team", args=[cast.patient.patient.pk])
    client = client_as(getattr(cast, persona))
    assert client.get(url).status_code == 404
    response = client.post(
        url,
        {
            "action": "assign",
            "staff_member": cast.unassigned_clinician.staff_member.pk,
            "role": "case_manager",
        },
    )
    assert response.status_code == 404
    assert not CareTeamMember.objects.filter(
        staff_member=cast.unassigned_clinician.staff_member, episode__patient=cast.patient.patient
    ).exists()


def test_the_admin_sets_how_long_a_discharged_patient_keeps_access(
    cast: Any, client_as: Any
) -> None:
    client = client_as(cast.program_admin)
    data = {"program": cast.iop.pk, "action": "access_days"}
    assert client.post(reverse(SETUP), {**data, "days": "45"}).status_code == 302
    cast.iop.refresh_from_db()
    assert cast.iop.post_discharge_access_days == 45
    response = client.post(reverse(SETUP), {**data, "days": "9999"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose from 0 to 365 days." in body and 'value="9999"' in body
    cast.iop.refresh_from_db()
    assert cast.iop.post_discharge_access_days == 45


def _program_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Evening IOP",
        "kind": "iop",
        "time_zone": "America/Chicago",
        "crisis_line": "413-555-0142",
        "after_hours_line": "",
        "office_opens_at": "08:30",
        "office_closes_at": "18:00",
        "office_days": ["0", "1", "2", "3"],
    }
    data.update(overrides)
    return data


def test_the_admin_creates_a_program_and_works_in_it(cast: Any, client_as: Any) -> None:
    from tether.flags.models import FlagRule
    from tether.organizations.models import Program

    client = client_as(cast.program_admin)
    assert client.get(reverse("program:new")).status_code == 200
    response = client.post(reverse("program:new"), _program_form())
    assert response.status_code == 302
    program = Program.objects.get(name="Evening IOP")
    assert program.organization == cast.organization
    assert (program.time_zone, program.office_days) == ("America/Chicago", "0123")
    assert program.crisis_line.startswith("+1413")
    assert program.office_opens_at == dt.time(8, 30)
    assert cast.program_admin.staff_member.programs.filter(pk=program.pk).exists()
    assert FlagRule.objects.filter(program=program).exists()
    assert AuditEvent.objects.filter(
        object_type="organizations.program", object_id=str(program.pk), action="create"
    ).exists()
    assert client.get(response["Location"]).status_code == 200


def test_a_program_name_in_use_or_bad_hours_keep_what_was_typed(cast: Any, client_as: Any) -> None:
    from tether.organizations.models import Program

    client = client_as(cast.program_admin)
    response = client.post(reverse("program:new"), _program_form(name="adult iop"))
    assert response.status_code == 400
    assert "already has a program called" in response.content.decode()
    response = client.post(
        reverse("program:new"), _program_form(office_closes_at="08:00", crisis_line="12")
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "not a phone number" in body and 'value="Evening IOP"' in body
    assert not Program.objects.filter(name="Evening IOP").exists()


@pytest.mark.parametrize("persona", NOT_ADMINS)
def test_nobody_but_a_program_admin_creates_a_program(
    cast: Any, client_as: Any, persona: str
) -> None:
    from tether.organizations.models import Program

    client = client_as(getattr(cast, persona))
    assert client.get(reverse("program:new")).status_code == 404
    assert client.post(reverse("program:new"), _program_form()).status_code == 404
    assert not Program.objects.filter(name="Evening IOP").exists()


def test_the_admin_sets_office_hours(cast: Any, client_as: Any) -> None:
    client = client_as(cast.program_admin)
    data = {
        "program": cast.iop.pk,
        "action": "office_hours",
        "office_opens_at": "10:00",
        "office_closes_at": "09:00",
        "office_days": ["0", "2"],
    }
    refused = client.post(reverse(SETUP), data)
    assert refused.status_code == 400
    assert "closes before it opens" in refused.content.decode()
    assert client.post(reverse(SETUP), {**data, "office_closes_at": "16:00"}).status_code == 302
    cast.iop.refresh_from_db()
    assert (cast.iop.office_opens_at, cast.iop.office_closes_at) == (dt.time(10), dt.time(16))
    assert cast.iop.office_days == "02"
    for persona in NOT_ADMINS:
        assert client_as(getattr(cast, persona)).post(reverse(SETUP), data).status_code == 404


def test_an_admin_with_no_program_is_sent_to_create_one(cast: Any, client_as: Any) -> None:
    cast.program_admin.staff_member.programs.clear()
    response = client_as(cast.program_admin).get(reverse(SETUP))
    assert response.status_code == 302 and response["Location"] == reverse("program:new")
