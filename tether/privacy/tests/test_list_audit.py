"""Issue 13 item 6: every list page view is audited (one row per patient shown, with the
category of what was shown), every refusal is audited, and no row says a record was
seen that was not."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import User
from tether.checkins.models import Response
from tether.crisis import services as crisis_services
from tether.flags.models import Flag
from tether.flags.services import flags_sweep
from tether.flags.testing import add_response
from tether.messaging import services as messaging_services
from tether.organizations.models import StaffMember
from tether.patients.models import Episode
from tether.privacy.gate import patients_visible_to
from tether.privacy.models import AuditEvent
from tether.privacy.policy import Action, Category

ALLOWED, DENIED = AuditEvent.Outcome.ALLOWED, AuditEvent.Outcome.DENIED


def _listed(actor: User, object_type: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        actor=actor, object_type=object_type, action="view", outcome=ALLOWED
    )


def test_the_caseload_board_records_each_patient_shown(cast, client_as):
    add_response(cast.patient.patient, "phq9", timezone.now() - dt.timedelta(days=1), total=9)
    client_as(cast.assigned_clinician).get(reverse("staff:dashboard"))
    events = _listed(cast.assigned_clinician, "staff.caseload")
    shown = set(
        patients_visible_to(
            cast.assigned_clinician, category=Category.SELF_REPORT, action=Action.VIEW
        ).values_list("pk", flat=True)
    )
    assert shown and set(events.values_list("patient_id", flat=True)) == shown
    assert events.count() == len(shown)  # one row per patient shown
    row = events.get(patient=cast.patient.patient)
    assert (row.category, row.relation, row.purpose) == ("self_report", "care_team", "TREAT")


def test_the_plain_patient_list_records_general_rows(cast, client_as):
    client_as(cast.front_desk).get(reverse("staff:dashboard"))
    events = _listed(cast.front_desk, "patients.patient")
    assert events.filter(patient=cast.patient.patient, category="general").exists()
    assert set(events.values_list("relation", flat=True)) == {"program_front_desk"}


def test_the_inbox_records_each_thread_shown(cast, client_as):
    messaging_services.message_send_by_patient(
        patient=cast.patient.patient, author=cast.patient, body="Hello"
    )
    client_as(cast.clinical_lead).get(reverse("messaging:inbox"))
    row = _listed(cast.clinical_lead, "messaging.thread").get()
    assert (row.patient_id, row.category, row.relation) == (
        cast.patient.patient.pk,
        "shared",
        "program_lead",
    )


def test_the_inbox_hides_part2_threads_from_the_lead_and_says_why(cast, client_as):
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    messaging_services.message_send_by_patient(
        patient=cast.patient.patient, author=cast.patient, body="Hello"
    )
    page = client_as(cast.clinical_lead).get(reverse("messaging:inbox")).content.decode()
    assert "Maria Garcia" not in page
    assert "1 thread is hidden from you" in page
    assert "No messages yet" not in page
    assert not _listed(cast.clinical_lead, "messaging.thread").exists()
    own = client_as(cast.assigned_clinician).get(reverse("messaging:inbox")).content.decode()
    assert "Maria Garcia" in own
    assert _listed(cast.assigned_clinician, "messaging.thread").get().category == "part2"


def test_the_flag_queue_records_each_patient_shown(cast, client_as):
    now = timezone.now()
    Episode.objects.update(admitted_on=(now - dt.timedelta(days=30)).date())
    add_response(cast.adolescent.patient, "phq9", now - dt.timedelta(days=20), total=5)
    add_response(cast.adolescent.patient, "phq9", now - dt.timedelta(days=1), total=14)
    flags_sweep()
    assert Flag.objects.filter(patient=cast.adolescent.patient).exists()
    client_as(cast.on_call).get(reverse("flags:queue"))
    events = _listed(cast.on_call, "flags.flag")
    assert events.filter(patient=cast.adolescent.patient, category="self_report").exists()
    assert set(events.values_list("relation", flat=True)) == {"program_on_call"}


def test_the_urgent_request_list_records_each_patient_shown(cast, client_as):
    crisis_services.urgent_contact_raise(patient=cast.patient.patient, source="patient_button")
    client_as(cast.on_call).get(reverse("crisis:staff_requests"))
    row = _listed(cast.on_call, "crisis.urgentcontactrequest").get()
    assert (row.patient_id, row.category) == (cast.patient.patient.pk, "shared")


# --- Refusals are audited ---------------------------------------------------------------


def _response_of(patient: Any) -> Response:
    response: Response = add_response(patient, "phq9", timezone.now(), total=4)
    return response


def test_a_patient_opening_another_patients_check_in_is_recorded(cast, client_as):
    theirs = _response_of(cast.other_patient.patient)
    url = reverse("checkins:resume", kwargs={"key": theirs.key})
    assert client_as(cast.patient).get(url).status_code == 404
    assert AuditEvent.objects.filter(
        actor=cast.patient, patient=cast.other_patient.patient, outcome=DENIED
    ).exists()


def test_a_patient_opening_another_patients_urgent_request_is_recorded(cast, client_as):
    theirs = crisis_services.urgent_contact_raise(
        patient=cast.other_patient.patient, source="patient_button"
    )
    url = reverse("crisis:urgent_status", kwargs={"request_id": theirs.pk})
    assert client_as(cast.patient).get(url).status_code == 404
    assert AuditEvent.objects.filter(
        actor=cast.patient, patient=cast.other_patient.patient, outcome=DENIED
    ).exists()


def test_non_staff_in_the_staff_area_is_recorded(cast, client_as):
    for persona in ("patient", "parent"):
        user = getattr(cast, persona)
        assert client_as(user).get(reverse("staff:dashboard")).status_code == 404
        assert AuditEvent.objects.filter(actor=user, outcome=DENIED).exists(), persona


def test_a_post_to_another_programs_flag_is_recorded(cast, client_as):
    now = timezone.now()
    Episode.objects.update(admitted_on=(now - dt.timedelta(days=30)).date())
    add_response(cast.adolescent.patient, "phq9", now - dt.timedelta(days=20), total=5)
    add_response(cast.adolescent.patient, "phq9", now - dt.timedelta(days=1), total=14)
    flags_sweep()
    flag = Flag.objects.filter(patient=cast.adolescent.patient).first()
    assert flag is not None
    StaffMember.objects.get(user=cast.clinical_lead).programs.remove(cast.adolescent_iop)
    url = reverse("flags:act", args=[flag.pk])
    response = client_as(cast.clinical_lead).post(url, {"step": "acknowledge"})
    assert response.status_code == 404
    flag.refresh_from_db()
    assert flag.acknowledged_at is None
    assert AuditEvent.objects.filter(
        actor=cast.clinical_lead, patient=cast.adolescent.patient, outcome=DENIED
    ).exists()


# --- The category recorded is the category shown -----------------------------------------


def test_viewing_a_patient_outside_part2_never_records_a_part2_view(cast, client_as):
    add_response(cast.patient.patient, "phq9", timezone.now() - dt.timedelta(days=1), total=9)
    client = client_as(cast.assigned_clinician)
    for name in ("staff:patient_detail", "staff:review", "checkins:staff_measures"):
        client.get(reverse(name, args=[cast.patient.patient.pk]))
    client.get(reverse("staff:dashboard"))
    assert AuditEvent.objects.filter(actor=cast.assigned_clinician, category="self_report").exists()
    assert not AuditEvent.objects.filter(
        patient=cast.patient.patient, category="part2", outcome=ALLOWED
    ).exists()
    page = client_as(cast.patient).get(reverse("privacy:who_viewed")).content.decode()
    assert "substance use" not in page
