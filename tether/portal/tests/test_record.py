"""The patient's own record (ONC 170.315(e)(1)): view, download as PDF and FHIR, send."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from pypdf import PdfReader

from tether.consent.models import Disclosure, Recipient
from tether.consent.notice import PART2_NOTICE
from tether.fhir.tests.helpers import add_measure
from tether.messaging.models import Message, Thread
from tether.portal.models import RecordTransmission
from tether.portal.services import DAILY_LIMIT
from tether.privacy.models import AuditEvent
from tether.safetyplan.models import SafetyPlan, SafetyPlanVersion

PHQ9 = [2, 2, 1, 1, 1, 1, 1, 0, 1]  # total 10, "Moderate"
URLS = ("portal:record", "portal:record_pdf", "portal:record_fhir", "portal:record_send")
SEND = {"channel": "email", "address": "Dr.Rivera@Clinic.example", "format": "pdf"}


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(text.split())


def _disclose(patient, clinician, *, name: str = "Dr. Rivera") -> Disclosure:
    recipient = Recipient.objects.create(
        organization=patient.organization, name=name, kind=Recipient.Kind.PRIMARY_CARE
    )
    return Disclosure.objects.create(
        organization=patient.organization,
        patient=patient,
        recipient=recipient,
        kind=Disclosure.Kind.PROGRESS_SUMMARY,
        category="mental_health",
        purpose="TREAT",
        content="Attends every group.",
        notice="",
        disclosed_by=clinician,
    )


def _plan(patient, text: str = "Not sleeping, pacing at night") -> None:
    plan = SafetyPlan.objects.create(organization=patient.organization, patient=patient)
    SafetyPlanVersion.objects.create(
        organization=patient.organization,
        plan=plan,
        number=1,
        author=patient.user,
        warning_signs=text,
        record_category="shared",
    )


def _message(patient, body: str) -> None:
    thread = Thread.objects.create(organization=patient.organization, patient=patient)
    Message.objects.create(
        organization=patient.organization,
        thread=thread,
        author=patient.user,
        author_kind=Message.AuthorKind.PATIENT,
        body=body,
        record_category="shared",
    )


def _maria_with_a_record(cast: Any, book: Any) -> tuple[Any, Any]:
    patient = cast.patient.patient
    response = add_measure(patient, "phq9", PHQ9)
    _plan(patient)
    _message(patient, "Can we move Thursday's session?")
    book(cast.patient, days=-2, title="Mindfulness group")
    _disclose(patient, cast.assigned_clinician)
    return patient, response


@pytest.mark.django_db
def test_the_patient_sees_their_whole_record_in_plain_words(cast, client_as, book):
    patient, _response = _maria_with_a_record(cast, book)
    body = client_as(cast.patient).get(reverse("portal:record")).content.decode()
    assert "My health record" in body
    assert "PHQ-9" in body and "Score 10 (Moderate" in body
    assert "Not sleeping, pacing at night" in body
    assert "Mindfulness group" in body
    assert "Can we move Thursday" in body
    assert "Dr. Rivera" in body  # the accounting of disclosures
    assert "Need help now?" in body and 'href="tel:988"' in body  # the crisis bar
    assert "substance-use treatment information" not in body  # not a Part 2 record
    events = AuditEvent.objects.filter(patient=patient, actor=cast.patient, action="view")
    assert {e.category for e in events} >= {"general", "self_report", "shared"}


@pytest.mark.django_db
def test_it_shows_nothing_of_another_patient(cast, client_as, book):
    _maria_with_a_record(cast, book)
    tom = cast.other_patient.patient
    add_measure(tom, "gad7", [3, 3, 3, 3, 3, 3, 3])
    _plan(tom, "Tom's own warning signs")
    body = client_as(cast.patient).get(reverse("portal:record")).content.decode()
    assert "Tom" not in body and "GAD-7" not in body
    tom_body = client_as(cast.other_patient).get(reverse("portal:record")).content.decode()
    assert "Tom&#x27;s own warning signs" in tom_body
    assert "pacing at night" not in tom_body and "Dr. Rivera" not in tom_body


@pytest.mark.django_db
@pytest.mark.parametrize("name", URLS)
@pytest.mark.parametrize(
    "persona", ["parent", "assigned_clinician", "clinical_lead", "front_desk", "privacy_officer"]
)
def test_staff_and_family_members_get_a_404(cast, client_as, name, persona):
    # A family member sees what their scopes open on the family page, never this record.
    assert client_as(getattr(cast, persona)).get(reverse(name)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", URLS)
def test_signed_out_people_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_the_pdf_holds_the_scores_the_patient_saw_and_no_notice_without_part2(
    cast, client_as, book
):
    patient, response = _maria_with_a_record(cast, book)
    got = client_as(cast.patient).get(reverse("portal:record_pdf"))
    assert got["Content-Type"] == "application/pdf"
    assert got["Content-Disposition"] == 'attachment; filename="health-record.pdf"'
    text = _pdf_text(got.content)
    assert "Maria Garcia" in text
    assert f"PHQ-9: score {response.total} (Moderate" in text
    assert "Not sleeping, pacing at night" in text
    assert "Dr. Rivera" in text  # accounting of disclosures
    assert "42 CFR part 2" not in text
    exports = AuditEvent.objects.filter(patient=patient, action="export", actor=cast.patient)
    assert {e.category for e in exports} >= {"general", "self_report", "shared"}


@pytest.mark.django_db
def test_a_part2_record_carries_the_notice_in_the_pdf(cast, client_as, recovery):
    _program, rae = recovery
    response = add_measure(rae, "phq9", PHQ9)
    assert response.record_category == "part2"
    body = client_as(rae.user).get(reverse("portal:record")).content.decode()
    assert "substance-use treatment information" in body
    text = _pdf_text(client_as(rae.user).get(reverse("portal:record_pdf")).content)
    assert " ".join(PART2_NOTICE.split()) in text
    assert "42 CFR part 2 prohibits unauthorized use or disclosure of these records." in text
    assert "PHQ-9: score 10" in text
    assert AuditEvent.objects.filter(patient=rae, action="export", category="part2").exists()


def _validate(bundle: dict[str, Any]) -> None:
    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.mark.django_db
def test_the_fhir_bundle_validates_and_holds_the_scores(cast, client_as, book):
    patient, response = _maria_with_a_record(cast, book)
    got = client_as(cast.patient).get(reverse("portal:record_fhir"))
    assert got["Content-Type"] == "application/fhir+json"
    bundle = json.loads(got.content)
    _validate(bundle)
    assert bundle["type"] == "collection"
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"]:
        by_type.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    assert [p["id"] for p in by_type["Patient"]] == [str(patient.pk)]
    totals = [o for o in by_type["Observation"] if o["code"]["coding"][0]["code"] == "44261-6"]
    assert [o["valueInteger"] for o in totals] == [response.total]
    assert totals[0]["subject"]["reference"] == f"Patient/{patient.pk}"
    assert len(by_type["QuestionnaireResponse"]) == 1
    assert len(by_type["Appointment"]) == 1
    documents = {d["id"].split("-", 1)[1]: d for d in by_type["DocumentReference"]}
    import base64

    accounting = base64.b64decode(documents["disclosures"]["content"][0]["attachment"]["data"])
    assert "Dr. Rivera" in accounting.decode()
    assert "meta" not in bundle or "security" not in bundle["meta"]


@pytest.mark.django_db
def test_a_part2_bundle_is_labelled_and_carries_the_notice(cast, client_as, recovery):
    _program, rae = recovery
    add_measure(rae, "phq9", PHQ9)
    bundle = json.loads(client_as(rae.user).get(reverse("portal:record_fhir")).content)
    _validate(bundle)
    assert {s["code"] for s in bundle["meta"]["security"]} >= {"R", "42CFRPart2", "NORDSCLCD"}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert {s["code"] for s in resource["meta"]["security"]} >= {"42CFRPart2"}
        assert "42 CFR part 2" in resource["text"]["div"]


@pytest.mark.django_db
def test_sending_asks_for_confirmation_then_sends_one_mail_and_records_it(cast, client_as, book):
    patient, response = _maria_with_a_record(cast, book)
    http = client_as(cast.patient)
    url = reverse("portal:record_send")
    form = http.get(url).content.decode()
    assert "Send a copy of my record" in form and "Direct address" in form

    check = http.post(url, SEND)
    assert check.status_code == 200
    assert "Check before sending" in check.content.decode()
    assert "Dr.Rivera@clinic.example" in check.content.decode()
    assert mail.outbox == [] and not RecordTransmission.objects.exists()

    sent = http.post(url, {**SEND, "confirm": "send"}, follow=True)
    assert "Sent to Dr.Rivera@clinic.example." in sent.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Dr.Rivera@clinic.example"]
    assert "Maria" not in f"{message.subject} {message.body}"  # names travel only in the file
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == ("health-record.pdf", "application/pdf")
    assert f"PHQ-9: score {response.total}" in _pdf_text(content)
    copy = RecordTransmission.objects.get()
    assert (copy.patient, copy.channel, copy.format, copy.address) == (
        patient,
        "email",
        "pdf",
        "Dr.Rivera@clinic.example",
    )
    assert not copy.carried_part2_notice
    event = AuditEvent.objects.get(object_type="portal.recordtransmission")
    assert (event.action, event.actor_id, event.outcome) == ("export", cast.patient.pk, "allowed")
    # The patient's record lists the copy sent.
    assert "Dr.Rivera@clinic.example" in http.get(reverse("portal:record")).content.decode()


@pytest.mark.django_db
def test_a_direct_address_gets_the_fhir_file_and_part2_the_notice(cast, client_as, recovery):
    _program, rae = recovery
    add_measure(rae, "phq9", PHQ9)
    http = client_as(rae.user)
    data = {"channel": "direct", "address": "intake@direct.hillside.example", "format": "fhir"}
    http.post(reverse("portal:record_send"), {**data, "confirm": "send"})
    [message] = mail.outbox
    assert PART2_NOTICE in message.body
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == ("health-record.fhir.json", "application/fhir+json")
    _validate(json.loads(content))
    assert RecordTransmission.objects.get().carried_part2_notice
    assert AuditEvent.objects.filter(
        object_type="portal.recordtransmission", category="part2"
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "address",
    ["not-an-address", "a@b@c.example", "one@x.example, two@y.example", "x@y.example\nBcc: z@q"],
)
def test_a_wrong_address_is_refused_and_nothing_is_sent(cast, client_as, address):
    http = client_as(cast.patient)
    got = http.post(reverse("portal:record_send"), {**SEND, "address": address, "confirm": "send"})
    assert got.status_code == 200
    assert "Type one address, like name@example.org." in got.content.decode()
    assert mail.outbox == [] and not RecordTransmission.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["parent", "assigned_clinician", "front_desk"])
def test_a_wrong_persons_send_sends_nothing(cast, client_as, client, persona):
    got = client_as(getattr(cast, persona)).post(
        reverse("portal:record_send"), {**SEND, "confirm": "send"}
    )
    assert got.status_code == 404
    client.logout()
    assert (
        client.post(reverse("portal:record_send"), {**SEND, "confirm": "send"}).status_code == 302
    )
    assert mail.outbox == [] and not RecordTransmission.objects.exists()


@pytest.mark.django_db
def test_change_something_goes_back_to_the_form(cast, client_as):
    got = client_as(cast.patient).post(reverse("portal:record_send"), {**SEND, "confirm": "change"})
    assert "Check before sending" in got.content.decode()  # the form's button
    assert 'value="Dr.Rivera@Clinic.example"' in got.content.decode()
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_day_has_a_limit(cast, client_as):
    patient = cast.patient.patient
    RecordTransmission.objects.bulk_create(
        RecordTransmission(
            organization=patient.organization,
            patient=patient,
            sent_by=cast.patient,
            channel="email",
            address="me@example.org",
            format="pdf",
            sent_at=timezone.now() - dt.timedelta(hours=1),
        )
        for _ in range(DAILY_LIMIT)
    )
    http = client_as(cast.patient)
    assert (
        "as many copies as you can today"
        in http.get(reverse("portal:record_send")).content.decode()
    )
    got = http.post(reverse("portal:record_send"), {**SEND, "confirm": "send"}, follow=True)
    assert "Please try again tomorrow" in got.content.decode()
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_page_takes_the_same_queries_for_a_longer_record(cast, client_as, book):
    http = client_as(cast.patient)
    patient = cast.patient.patient
    add_measure(patient, "phq9", PHQ9)
    book(cast.patient, days=-1)
    _disclose(patient, cast.assigned_clinician)
    with CaptureQueriesContext(connection) as few:
        assert http.get(reverse("portal:record")).status_code == 200
    for days in range(2, 8):
        add_measure(patient, "phq9", PHQ9, days_ago=days)
        book(cast.patient, days=-days, title=f"Group {days}")
        _disclose(patient, cast.assigned_clinician, name=f"Dr. {days}")
    with CaptureQueriesContext(connection) as many:
        assert http.get(reverse("portal:record")).status_code == 200
    assert len(many) == len(few)
