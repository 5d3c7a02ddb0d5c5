"""The audit report (ONC (d)(3)): filters, order, pages, CSV, and who may read it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

URL = reverse("privacy:audit_report")
CSV_URL = reverse("privacy:audit_report_csv")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")  # the cast's programs' time zone


def _event(
    actor, patient, *, when=None, outcome=AuditEvent.Outcome.ALLOWED, action=Action.VIEW
) -> AuditEvent:
    def record() -> AuditEvent:
        return audit.record(
            request=None,
            actor=actor,
            patient=patient,
            action=action,
            category=Category.MENTAL_HEALTH,
            purpose=Purpose.TREATMENT,
            outcome=outcome,
        )

    if when is None:
        return record()
    with mock.patch("django.utils.timezone.now", return_value=when):
        return record()


def _rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize(
    "persona",
    [
        "assigned_clinician",
        "unassigned_clinician",
        "on_call",
        "front_desk",
        "program_admin",
        "other_org_clinician",
        "patient",
        "parent",
    ],
)
def test_it_checks_access(cast, client_as, persona):
    user = getattr(cast, persona)
    client = client_as(user)
    assert client.get(URL).status_code == 404
    assert client.get(CSV_URL).status_code == 404
    denied = AuditEvent.objects.filter(actor=user, outcome="denied", purpose=Purpose.AUDIT)
    assert denied.count() == 2


@pytest.mark.parametrize("persona", ["privacy_officer", "clinical_lead"])
def test_it_lets_the_privacy_officer_and_clinical_lead_in(cast, client_as, persona):
    response = client_as(getattr(cast, persona)).get(URL)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert 'href="/privacy/audit/"' in response.content.decode()  # the nav link


def test_it_hides_the_nav_link_from_other_staff(cast, client_as):
    body = client_as(cast.assigned_clinician).get(reverse("staff:dashboard")).content.decode()
    assert reverse("privacy:audit_report") not in body


def test_it_shows_who_did_what_to_whose_record(cast, client_as):
    client_as(cast.assigned_clinician).get(
        reverse("staff:patient_detail", args=[cast.patient.patient.pk]), REMOTE_ADDR="198.51.100.4"
    )
    body = client_as(cast.privacy_officer).get(URL).content.decode()
    assert "Dana Staff" in body and "dana.clinician" in body
    assert "Clinician" in body and "on the patient&#x27;s care team" in body
    assert "Maria Garcia" in body and "MRN-maria.g" in body
    assert "Treatment" in body and "198.51.100.4" in body


def test_it_shows_refused_attempts(cast, client_as):
    client_as(cast.unassigned_clinician).get(
        reverse("staff:patient_detail", args=[cast.patient.patient.pk])
    )
    body = client_as(cast.privacy_officer).get(URL + "?outcome=denied").content.decode()
    assert "Uri Staff" in body and "<strong>denied</strong>" in body


def test_it_shows_nothing_from_another_organization(cast, client_as):
    _event(cast.other_org_clinician, None)
    body = client_as(cast.clinical_lead).get(URL).content.decode()
    assert "Xena" not in body


def test_it_filters_by_period_in_the_organizations_time_zone(cast, client_as):
    patient = cast.patient.patient
    # 11:30 PM in New York on March 2 is already March 3 in UTC.
    late = dt.datetime(2026, 3, 2, 23, 30, tzinfo=NEW_YORK)
    _event(cast.assigned_clinician, patient, when=late)
    _event(cast.clinical_lead, patient, when=late + dt.timedelta(days=2))
    client = client_as(cast.privacy_officer)
    body = client.get(URL + "?from=2026-03-02&to=2026-03-02").content.decode()
    assert "Dana Staff" in body and "Lee Staff" not in body
    assert "Mar 2, 2026 11:30:00 PM" in body
    body = client.get(URL + "?from=2026-03-03&to=2026-03-05").content.decode()
    assert "Lee Staff" in body and "Dana Staff" not in body


def test_it_filters_by_user_and_patient_without_putting_them_in_the_url(cast, client_as):
    _event(cast.assigned_clinician, cast.patient.patient)
    _event(cast.assigned_clinician, cast.adolescent.patient)
    _event(cast.unassigned_clinician, cast.other_patient.patient)
    client = client_as(cast.privacy_officer)
    response = client.post(URL, {"username": "DANA.clinician", "record_number": "MRN-maria.g"})
    assert response.status_code == 302
    location = response["Location"]
    assert "dana" not in location.lower() and "maria" not in location.lower()
    assert f"actor={cast.assigned_clinician.pk}" in location
    assert f"patient={cast.patient.patient.pk}" in location
    response = client.get(location)
    body = response.content.decode()
    assert "Maria Garcia" in body
    assert "Jordan Kim" not in body and "Tom Baker" not in body
    # The filters are shown as typed.
    assert 'value="dana.clinician"' in body and 'value="MRN-maria.g"' in body
    # Reading a patient's part of the trail is itself recorded, with that patient.
    seen = AuditEvent.objects.filter(actor=cast.privacy_officer, purpose=Purpose.AUDIT).latest("pk")
    assert (seen.patient_id, seen.action, seen.outcome) == (
        cast.patient.patient.pk,
        "view",
        "allowed",
    )


def test_it_keeps_what_was_typed_when_a_filter_is_wrong(cast, client_as):
    response = client_as(cast.privacy_officer).post(
        URL,
        {
            "date_from": "2026-03-10",
            "date_to": "2026-03-01",
            "username": "nobody.here",
            "record_number": "MRN-UNKNOWN",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "No one in your organization has this username." in body
    assert "No patient in your organization has this number." in body
    assert "The end date is before the start date." in body
    assert 'value="nobody.here"' in body and 'value="MRN-UNKNOWN"' in body
    assert 'value="2026-03-10"' in body


def test_it_never_finds_another_organizations_people(cast, client_as):
    client = client_as(cast.privacy_officer)
    body = client.post(URL, {"username": "xena.elsewhere"}).content.decode()
    assert "No one in your organization has this username." in body
    body = client.get(URL + f"?actor={cast.other_org_clinician.pk}").content.decode()
    assert "This user is not in your organization." in body
    assert "events from" not in body


def test_it_sorts_by_time_both_ways(cast, client_as):
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK)
    _event(cast.assigned_clinician, cast.patient.patient, when=start)
    _event(cast.clinical_lead, cast.patient.patient, when=start + dt.timedelta(hours=1))
    client = client_as(cast.privacy_officer)
    newest = client.get(URL + "?from=2026-03-02&to=2026-03-02").content.decode()
    assert newest.index("Lee Staff") < newest.index("Dana Staff")
    oldest = client.get(URL + "?from=2026-03-02&to=2026-03-02&sort=oldest").content.decode()
    assert oldest.index("Dana Staff") < oldest.index("Lee Staff")


def test_it_pages_by_fifty_in_a_constant_number_of_queries(cast, client_as):
    client = client_as(cast.privacy_officer)
    for _ in range(3):
        _event(cast.assigned_clinician, cast.patient.patient)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for persona in ("clinical_lead", "on_call", "front_desk"):
        for _ in range(40):
            _event(getattr(cast, persona), cast.other_patient.patient)
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert len(many) == len(few)
    body = response.content.decode()
    assert body.count("<tr>") == 1 + 50  # header row + one page
    assert "Page 1 of 3" in body
    page_3 = client.get(URL + "?page=3").content.decode()
    assert "Page 3 of 3" in page_3


def test_it_exports_the_same_filters_as_csv(cast, client_as):
    _event(cast.assigned_clinician, cast.patient.patient)
    _event(cast.assigned_clinician, cast.patient.patient, outcome=AuditEvent.Outcome.DENIED)
    _event(cast.clinical_lead, cast.other_patient.patient)
    client = client_as(cast.clinical_lead)
    response = client.get(CSV_URL + f"?actor={cast.assigned_clinician.pk}&outcome=allowed")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert "riverbend" in response["Content-Disposition"]
    rows = _rows(response)
    assert len(rows) == 1
    assert rows[0]["actor_username"] == "dana.clinician"
    assert rows[0]["patient_name"] == "Maria Garcia"
    assert rows[0]["outcome"] == "allowed"
    assert rows[0]["purpose"] == "TREAT"
    export = AuditEvent.objects.filter(actor=cast.clinical_lead, purpose=Purpose.AUDIT).latest("pk")
    assert export.action == "export"


def test_it_keeps_spreadsheet_formulas_out_of_the_csv(cast, client_as):
    user = cast.assigned_clinician
    user.first_name = "=HYPERLINK(1)"
    user.save(update_fields=["first_name"])
    _event(user, cast.patient.patient)
    rows = _rows(client_as(cast.privacy_officer).get(CSV_URL + f"?actor={user.pk}"))
    assert rows[0]["actor_name"].startswith("'=HYPERLINK")


def test_it_sends_an_edited_csv_link_back_to_the_report(cast, client_as):
    response = client_as(cast.privacy_officer).get(CSV_URL + "?patient=999999")
    assert response.status_code == 302
    assert response["Location"].startswith(URL)
