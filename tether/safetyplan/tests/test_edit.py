from __future__ import annotations

from typing import Any

from django.db import connection
from django.urls import reverse

from tether.privacy.models import AuditEvent, Purpose
from tether.safetyplan.models import STEPS, SafetyPlanVersion
from tether.safetyplan.services import safety_plan_save

URL = reverse("safety_plan:edit")


def _post(client: Any, url: Any, based_on: Any, **steps: Any) -> Any:
    """The whole form, as a browser sends it: every step, empty unless given."""
    data = {"based_on": str(based_on)} | {name: "" for name, _t, _h in STEPS}
    data.update(steps)
    return client.post(url, data)


def test_it_saves_each_change_as_a_new_version_with_who_and_when(cast, client_as):
    client = client_as(cast.patient)
    response = _post(client, URL, 0, warning_signs="I stop answering texts")
    assert response.status_code == 302
    response = _post(
        client, URL, 1, warning_signs="I stop answering texts", coping_strategies="Walk"
    )
    assert response.status_code == 302
    versions = list(SafetyPlanVersion.objects.filter(plan__patient=cast.patient.patient))
    assert [v.number for v in versions] == [2, 1]
    assert versions[0].author == cast.patient and versions[0].coping_strategies == "Walk"
    assert versions[1].coping_strategies == ""  # the old version is kept as it was
    event = AuditEvent.objects.filter(object_type="safetyplan.safetyplanversion").latest("id")
    assert (event.category, event.action, event.object_id) == (
        "shared",
        "update",
        str(versions[0].pk),
    )


def test_it_keeps_the_plan_encrypted_at_rest(cast, client_as):
    _post(client_as(cast.patient), URL, 0, warning_signs="Secret sign words")
    with connection.cursor() as cursor:
        cursor.execute("SELECT warning_signs FROM safetyplan_safetyplanversion")
        (stored,) = cursor.fetchone()
    assert "Secret sign words" not in stored


def test_it_lets_the_care_team_edit_too(cast, client_as):
    _post(client_as(cast.patient), URL, 0, warning_signs="Mine")
    url = reverse("safety_plan:staff_edit", args=[cast.patient.patient.pk])
    client = client_as(cast.assigned_clinician)
    assert "Mine" in client.get(url).content.decode()
    response = _post(client, url, 1, warning_signs="Mine", people_to_ask="Sister 555-0123")
    assert response.status_code == 302
    latest = SafetyPlanVersion.objects.filter(plan__patient=cast.patient.patient).get(number=2)
    assert latest.number == 2 and latest.author == cast.assigned_clinician


def test_it_shows_both_versions_and_asks_when_a_newer_one_was_saved(cast, client_as):
    client = client_as(cast.patient)
    _post(client, URL, 0, warning_signs="First")
    # The clinician saves while the patient still has version 1 open.
    safety_plan_save(
        patient=cast.patient.patient,
        author=cast.assigned_clinician,
        content={"warning_signs": "Clinician's words"},
        based_on=1,
        purpose=Purpose.TREATMENT,
    )
    response = _post(client, URL, 1, warning_signs="Patient's stale words")
    body = response.content.decode()
    assert response.status_code == 409
    assert "Someone else changed this safety plan" in body
    assert "Patient&#x27;s stale words" in body  # what they typed is kept
    assert "Clinician&#x27;s words" in body  # and the newer version is shown
    assert SafetyPlanVersion.objects.count() == 2  # nothing overwritten
    assert 'name="based_on" value="2"' in body
    # Saving again after looking is a deliberate choice, and becomes version 3.
    assert _post(client, URL, 2, warning_signs="Patient's stale words").status_code == 302
    assert SafetyPlanVersion.objects.filter(number=3).exists()


def test_it_keeps_oversized_text_and_says_what_is_wrong(cast, client_as):
    response = _post(
        client_as(cast.patient), URL, 0, warning_signs="x" * 5000, coping_strategies="Keep me"
    )
    body = response.content.decode()
    assert response.status_code == 400  # refused, shown again with what was typed
    assert "This is too long to save" in body
    assert "Keep me" in body and "x" * 5000 in body
    assert not SafetyPlanVersion.objects.exists()


def test_it_refuses_a_malformed_version_number(cast, client_as):
    response = _post(client_as(cast.patient), URL, "abc", warning_signs="Kept")
    assert response.status_code == 400
    assert "Kept" in response.content.decode()
    assert not SafetyPlanVersion.objects.exists()


def test_it_adds_no_version_when_nothing_changed(cast, client_as):
    client = client_as(cast.patient)
    _post(client, URL, 0, warning_signs="Same")
    _post(client, URL, 1, warning_signs="Same")
    assert SafetyPlanVersion.objects.count() == 1


def test_it_checks_access(cast, client_as):
    assert client_as(cast.patient).get(URL).status_code == 200
    for persona in ("parent", "assigned_clinician"):
        assert client_as(getattr(cast, persona)).get(URL).status_code == 404
    staff_url = reverse("safety_plan:staff_edit", args=[cast.patient.patient.pk])
    assert client_as(cast.assigned_clinician).get(staff_url).status_code == 200
    for persona in ("clinical_lead", "on_call", "front_desk", "unassigned_clinician", "patient"):
        client = client_as(getattr(cast, persona))
        assert _post(client, staff_url, 0, warning_signs="x").status_code == 404
    assert not SafetyPlanVersion.objects.exists()


def test_a_post_missing_a_step_is_refused_and_overwrites_nothing(cast, client_as):
    client = client_as(cast.patient)
    _post(client, URL, 0, warning_signs="I stop answering texts", people_to_ask="Sam")
    client.get(URL)  # the "saved" message of the first save is shown and gone
    data = {"based_on": "1", "warning_signs": "I stop answering\r\ntexts and sleep badly"}
    data |= {name: "" for name, _t, _h in STEPS if name not in ("warning_signs", "people_to_ask")}
    response = client.post(URL, data)  # people_to_ask did not arrive
    assert response.status_code == 400
    body = response.content.decode()
    assert "did not arrive, so nothing was saved" in body
    assert "Your changes to the safety plan are saved." not in body
    assert "I stop answering\r\ntexts and sleep badly" in body  # what was typed is kept
    versions = SafetyPlanVersion.objects.filter(plan__patient=cast.patient.patient)
    assert [(v.number, v.people_to_ask) for v in versions] == [(1, "Sam")]


def test_a_step_sent_empty_is_the_patients_choice(cast, client_as):
    client = client_as(cast.patient)
    _post(client, URL, 0, warning_signs="Signs", people_to_ask="Sam")
    assert _post(client, URL, 1, warning_signs="Signs", people_to_ask="").status_code == 302
    latest = SafetyPlanVersion.objects.filter(plan__patient=cast.patient.patient).get(number=2)
    assert latest.people_to_ask == ""


def test_a_nul_byte_never_reaches_the_plan(cast, client_as):
    _post(client_as(cast.patient), URL, 0, warning_signs="Signs\x00 here")
    latest = SafetyPlanVersion.objects.get(plan__patient=cast.patient.patient)
    assert latest.warning_signs == "Signs here"
