"""Check-ins are labelled at capture: in a Part 2 program (one that treats substance
use) a PHQ-9 is a Part 2 record, elsewhere a self-report; staff read them only as the
gate allows for that label."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone

from tether.checkins.models import ProgramInstrument, Response
from tether.flags.testing import add_response
from tether.privacy.models import AuditEvent


def _part2(cast: Any) -> None:
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])


def _start_phq9(client: Any, cast: Any, user: Any, program: Any) -> Response:
    schedule = ProgramInstrument.objects.get(program=program, instrument_code="phq9")
    assert client.post(reverse("checkins:start", args=[schedule.pk])).status_code == 302
    return Response.objects.get(patient=user.patient, instrument__code="phq9")


def test_a_part2_programs_phq9_is_labelled_part2(measures_on, client_as):
    cast = measures_on
    _part2(cast)
    draft = _start_phq9(client_as(cast.patient), cast, cast.patient, cast.iop)
    assert draft.record_category == "part2"
    assert AuditEvent.objects.filter(
        patient=cast.patient.patient, action="create", category="part2"
    ).exists()


def test_a_general_programs_phq9_is_a_self_report(measures_on, client_as):
    cast = measures_on
    draft = _start_phq9(client_as(cast.patient), cast, cast.patient, cast.iop)
    assert draft.record_category == "self_report"


def _scores(cast: Any) -> None:
    when = timezone.now() - dt.timedelta(days=3)
    add_response(cast.patient.patient, "phq9", when - dt.timedelta(days=7), total=17)
    add_response(cast.patient.patient, "phq9", when, total=23)


def test_only_people_with_part2_access_see_part2_scores(cast, client_as):
    _part2(cast)
    _scores(cast)
    assert set(Response.objects.values_list("record_category", flat=True)) == {"part2"}
    patient = cast.patient.patient
    measures = reverse("checkins:staff_measures", args=[patient.pk])
    detail = reverse("staff:patient_detail", args=[patient.pk])

    page = client_as(cast.assigned_clinician).get(measures).content.decode()
    assert "23" in page and "PHQ-9" in page
    assert "baseline 17" in client_as(cast.assigned_clinician).get(detail).content.decode()

    # The clinical lead and on-call may read self-reports but not Part 2 records.
    for persona in ("clinical_lead", "on_call"):
        client = client_as(getattr(cast, persona))
        page = client.get(measures)
        assert page.status_code == 200
        assert "baseline 17" not in page.content.decode()
        assert "PHQ-9" not in page.content.decode()
        assert "baseline 17" not in client.get(detail).content.decode()
    for persona in ("front_desk", "unassigned_clinician", "other_org_clinician", "patient"):
        assert client_as(getattr(cast, persona)).get(measures).status_code == 404

    # The patient sees their own.
    progress = client_as(cast.patient).get(reverse("checkins:progress")).content.decode()
    assert "PHQ-9" in progress


def test_the_same_scores_outside_part2_are_open_to_the_clinical_lead(cast, client_as):
    _scores(cast)
    patient = cast.patient.patient
    page = client_as(cast.clinical_lead).get(reverse("checkins:staff_measures", args=[patient.pk]))
    assert "PHQ-9" in page.content.decode()


def test_a_part2_read_is_audited_under_part2(cast, client_as):
    _part2(cast)
    _scores(cast)
    patient = cast.patient.patient
    client_as(cast.assigned_clinician).get(reverse("checkins:staff_measures", args=[patient.pk]))
    assert AuditEvent.objects.filter(
        patient=patient, action="view", category="part2", actor=cast.assigned_clinician
    ).exists()
    assert not AuditEvent.objects.filter(
        patient=patient, action="view", category="part2", actor=cast.clinical_lead
    ).exists()
