"""A program says whether Spanish is spoken on its crisis line; patients see it beside
the number, in their language."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tether.accounts.models import User

URL = reverse("crisis:program_settings")


def _save(client: Any, cast: Any, **extra: str) -> Any:
    data = {
        "program": cast.iop.pk,
        "action": "lines",
        "crisis_line": "413-555-0100",
        "after_hours_line": "",
        **extra,
    }
    return client.post(f"{URL}?program={cast.iop.pk}", data)


def test_the_program_admin_says_spanish_is_spoken(cast, client_as):
    client = client_as(cast.program_admin)
    assert _save(client, cast, spanish_spoken="1").status_code == 302
    cast.iop.refresh_from_db()
    assert cast.iop.spanish_spoken is True
    page = client.get(f"{URL}?program={cast.iop.pk}").content.decode()
    assert (
        'name="spanish_spoken"' in page
        and "checked" in page.split('name="spanish_spoken"')[1][:120]
    )
    assert _save(client, cast).status_code == 302  # unticked: not spoken
    cast.iop.refresh_from_db()
    assert cast.iop.spanish_spoken is False


def test_a_spanish_reading_patient_sees_it_beside_the_programs_line(cast, client_as):
    cast.iop.spanish_spoken = True
    cast.iop.save(update_fields=["spanish_spoken"])
    User.objects.filter(pk=cast.patient.pk).update(language="es")
    body = client_as(cast.patient).get(reverse("crisis:crisis")).content.decode()
    assert "Se habla español." in body


def test_no_one_else_may_change_it(cast, client_as):
    for persona in (cast.clinical_lead, cast.assigned_clinician, cast.patient):
        assert _save(client_as(persona), cast, spanish_spoken="1").status_code == 404
    cast.iop.refresh_from_db()
    assert cast.iop.spanish_spoken is False
