"""Program admins edit the program's crisis lines and its closed days."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.organizations.models import Program, ProgramClosure
from tether.privacy.models import AuditEvent

URL = reverse("crisis:program_settings")


def _url(program: Program) -> str:
    return f"{URL}?program={program.pk}"


def _today(program: Program) -> dt.date:
    return timezone.now().astimezone(program.tzinfo).date()


def test_it_checks_access(cast, client_as):
    assert client_as(cast.program_admin).get(URL).status_code == 200
    for persona in (cast.clinical_lead, cast.assigned_clinician, cast.front_desk, cast.patient):
        assert client_as(persona).get(URL).status_code == 404
    # A program the admin does not run (another organization's).
    other = Program.objects.get(name="Elsewhere IOP")
    assert client_as(cast.program_admin).get(_url(other)).status_code == 404


def test_it_saves_the_lines_and_whether_the_crisis_line_takes_texts(cast, client_as):
    client = client_as(cast.program_admin)
    response = client.post(
        _url(cast.iop),
        {
            "program": cast.iop.pk,
            "action": "lines",
            "crisis_line": " 413-555-0100 ",
            "crisis_line_takes_texts": "1",
            "after_hours_line": "",
        },
    )
    assert response.status_code == 302
    cast.iop.refresh_from_db()
    assert cast.iop.crisis_line == "+14135550100"  # E.164: a tel: link always dials it
    assert cast.iop.crisis_line_takes_texts is True
    assert cast.iop.after_hours_line == ""
    event = AuditEvent.objects.get(object_type="organizations.program")
    assert event.object_id == str(cast.iop.pk) and event.action == "update"
    page = client.get(response["Location"]).content.decode()
    assert "Crisis lines saved." in page
    assert 'value="(413) 555-0100"' in page


def test_a_bad_number_changes_nothing_and_keeps_what_was_typed(cast, client_as):
    response = client_as(cast.program_admin).post(
        _url(cast.iop),
        {
            "program": cast.iop.pk,
            "action": "lines",
            "crisis_line": "call Sam",
            "crisis_line_takes_texts": "1",
            "after_hours_line": "555-0199",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This is not a phone number that can be dialled." in body
    assert 'value="call Sam"' in body and 'value="555-0199"' in body
    cast.iop.refresh_from_db()
    assert (cast.iop.crisis_line, cast.iop.crisis_line_takes_texts) == ("555-0100", False)
    assert cast.iop.after_hours_line == "555-0101"


def test_it_adds_and_removes_a_closed_day(cast, client_as):
    client = client_as(cast.program_admin)
    day = _today(cast.iop) + dt.timedelta(days=10)
    response = client.post(
        _url(cast.iop),
        {
            "program": cast.iop.pk,
            "action": "add_closure",
            "date": day.isoformat(),
            "reason": "Staff training",
        },
    )
    assert response.status_code == 302
    closure = ProgramClosure.objects.get(program=cast.iop)
    assert closure.date == day and closure.reason == "Staff training"
    assert closure.organization_id == cast.organization.pk
    assert AuditEvent.objects.filter(
        object_type="organizations.programclosure", object_id=str(closure.pk), action="create"
    ).exists()
    page = client.get(_url(cast.iop)).content.decode()
    assert "Staff training" in page
    # The other program is unaffected.
    assert "Staff training" not in client.get(_url(cast.adolescent_iop)).content.decode()

    response = client.post(
        _url(cast.iop),
        {"program": cast.iop.pk, "action": "remove_closure", "closure": closure.pk},
    )
    assert response.status_code == 302
    assert not ProgramClosure.objects.exists()
    assert AuditEvent.objects.filter(
        object_type="organizations.programclosure", object_id=str(closure.pk), action="update"
    ).exists()


def test_it_refuses_a_past_or_doubled_day_and_keeps_the_input(cast, client_as):
    client = client_as(cast.program_admin)
    yesterday = _today(cast.iop) - dt.timedelta(days=1)
    response = client.post(
        _url(cast.iop),
        {
            "program": cast.iop.pk,
            "action": "add_closure",
            "date": yesterday.isoformat(),
            "reason": "Oops",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Pick today or a later date." in body and 'value="Oops"' in body
    assert not ProgramClosure.objects.exists()

    day = _today(cast.iop) + dt.timedelta(days=3)
    data = {"program": cast.iop.pk, "action": "add_closure", "date": day.isoformat(), "reason": ""}
    assert client.post(_url(cast.iop), data).status_code == 302
    response = client.post(_url(cast.iop), data)
    assert response.status_code == 400
    assert "already closed that day" in response.content.decode()
    assert ProgramClosure.objects.count() == 1


def test_it_never_removes_another_programs_closed_day(cast, client_as):
    closure = ProgramClosure.objects.create(
        organization=cast.organization,
        program=cast.adolescent_iop,
        date=_today(cast.iop) + dt.timedelta(days=5),
    )
    response = client_as(cast.program_admin).post(
        _url(cast.iop),
        {"program": cast.iop.pk, "action": "remove_closure", "closure": closure.pk},
    )
    assert response.status_code == 404
    assert ProgramClosure.objects.filter(pk=closure.pk).exists()


def _lines(client: Any, program: Program, **data: Any) -> Any:
    form = {"program": program.pk, "action": "lines", "after_hours_line": ""} | data
    return client.post(_url(program), form)


def test_a_20_digit_number_is_refused_with_a_message_and_kept_on_the_page(cast, client_as):
    typed = "41355501001234567890"
    response = _lines(client_as(cast.program_admin), cast.iop, crisis_line=typed)
    assert response.status_code == 400
    body = response.content.decode()
    assert "This is not a phone number that can be dialled." in body
    assert f'value="{typed}"' in body
    cast.iop.refresh_from_db()
    assert cast.iop.crisis_line == "555-0100"


def test_short_codes_such_as_988_stay_valid_for_crisis_lines(cast, client_as):
    client = client_as(cast.program_admin)
    assert _lines(client, cast.iop, crisis_line="988", after_hours_line="911").status_code == 302
    cast.iop.refresh_from_db()
    assert (cast.iop.crisis_line, cast.iop.after_hours_line) == ("988", "911")
    for bad in ("98", "+1988", "413-555-0100 ext 2", "\u0669\u0668\u0668"):
        assert _lines(client, cast.iop, crisis_line=bad).status_code == 400, bad


def test_the_takes_texts_box_counts_only_when_ticked(cast, client_as):
    response = _lines(
        client_as(cast.program_admin),
        cast.iop,
        crisis_line="413-555-0100",
        crisis_line_takes_texts="-1",
    )
    assert response.status_code == 400
    cast.iop.refresh_from_db()
    assert cast.iop.crisis_line_takes_texts is False


@pytest.mark.parametrize("forged", ["\u00b2", "\u0661", "1\u00b2", "-1", "99999999999999999999"])
def test_a_forged_closure_id_is_a_404_not_an_error(cast, client_as, forged):
    response = client_as(cast.program_admin).post(
        _url(cast.iop), {"program": cast.iop.pk, "action": "remove_closure", "closure": forged}
    )
    assert response.status_code == 404
