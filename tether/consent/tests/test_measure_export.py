"""Exporting the measure history to someone outside the program is a disclosure: checked
against consent for the label the scores got at capture, carrying the notice at the top
of the file, and listed in the patient's accounting of disclosures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone

from tether.consent.models import Disclosure
from tether.consent.notice import PART2_NOTICE
from tether.consent.services import consent_revoke
from tether.flags.testing import add_response
from tether.privacy.models import AuditEvent
from tether.privacy.policy import Category


def _part2(cast: Any) -> None:
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])


def _scores(cast: Any) -> None:
    when = timezone.now() - dt.timedelta(days=10)
    add_response(cast.patient.patient, "phq9", when, total=17)
    add_response(cast.patient.patient, "gad7", when, total=12)
    add_response(cast.patient.patient, "phq9", when + dt.timedelta(days=7), total=11)


def _export(client: Any, cast: Any, recipient: Any) -> Any:
    url = reverse("consent:staff_measure_export", args=[cast.patient.patient.pk])
    return client.post(url, {"export-recipient": str(recipient.pk)}, follow=True)


def test_part2_scores_are_refused_without_a_part2_consent(cast, client_as, pcp, sign):
    _part2(cast)
    _scores(cast)
    sign(pcp, Category.MENTAL_HEALTH)
    sign(pcp, Category.SELF_REPORT)
    page = _export(client_as(cast.assigned_clinician), cast, pcp).content.decode()
    assert "substance-use treatment records (42 CFR Part 2)" in page
    assert "Nothing was shared" in page
    assert not Disclosure.objects.exists()
    assert AuditEvent.objects.filter(
        outcome=AuditEvent.Outcome.DENIED, action="disclose", category="part2"
    ).exists()


def test_with_a_part2_consent_the_file_goes_out_with_the_notice_first(cast, client_as, pcp, sign):
    _part2(cast)
    _scores(cast)
    sign(pcp, Category.PART2)
    client = client_as(cast.assigned_clinician)
    page = _export(client, cast, pcp).content.decode()
    assert "What was sent" in page
    disclosure = Disclosure.objects.get()
    assert disclosure.kind == "measure_history"
    assert disclosure.category == "part2"
    assert disclosure.notice == PART2_NOTICE
    file = client.get(
        reverse("consent:staff_disclosure_file", args=[cast.patient.patient.pk, disclosure.pk])
    )
    assert file["Content-Type"].startswith("text/csv")
    assert "attachment" in file["Content-Disposition"]
    text = file.content.decode()
    first = text.splitlines()[0]
    assert first.startswith("# Notice to the recipient: This record which has been disclosed")
    assert "42 CFR part 2 prohibits unauthorized use or disclosure" in text
    assert "42CFRPart2" in text
    rows = [line for line in text.splitlines() if not line.startswith("#")]
    assert rows[0] == "date,measure,score,severity"
    assert [r.split(",")[1:3] for r in rows[1:]] == [
        ["PHQ-9", "17"],
        ["GAD-7", "12"],
        ["PHQ-9", "11"],
    ]
    assert AuditEvent.objects.filter(
        outcome=AuditEvent.Outcome.ALLOWED, action="disclose", category="part2"
    ).exists()


def test_the_patient_sees_the_export_in_their_accounting_of_disclosures(cast, client_as, pcp, sign):
    _scores(cast)
    sign(pcp, Category.SELF_REPORT)
    _export(client_as(cast.assigned_clinician), cast, pcp)
    page = client_as(cast.patient).get(reverse("consent:patient_list")).content.decode()
    assert "Measure history export (PHQ-9, GAD-7)" in page
    assert "Dr. Rivera" in page


def test_outside_part2_a_self_report_consent_is_needed(cast, client_as, pcp, sign):
    _scores(cast)
    consent = sign(pcp, Category.MENTAL_HEALTH)
    client = client_as(cast.assigned_clinician)
    refused = _export(client, cast, pcp).content.decode()
    assert "receive their check-ins and questionnaires" in refused
    consent_revoke(consent=consent, revoked_by=cast.patient)
    consent = sign(pcp, Category.SELF_REPORT)
    _export(client, cast, pcp)
    assert Disclosure.objects.get().category == "self_report"
    consent_revoke(consent=consent, revoked_by=cast.patient)
    again = _export(client, cast, pcp).content.decode()
    assert "Nothing was shared" in again
    assert Disclosure.objects.count() == 1


def test_nothing_to_export_says_so(cast, client_as, pcp, sign):
    sign(pcp, Category.SELF_REPORT)
    page = _export(client_as(cast.assigned_clinician), cast, pcp).content.decode()
    assert "no completed PHQ-9 or GAD-7 scores yet" in page
    assert not Disclosure.objects.exists()


def test_who_may_export_and_download(cast, client_as, pcp, sign):
    _part2(cast)
    _scores(cast)
    sign(pcp, Category.PART2)
    # The clinical lead may open care coordination but not read Part 2 scores: refused.
    assert _export(client_as(cast.clinical_lead), cast, pcp).status_code == 404
    for persona in ("front_desk", "unassigned_clinician", "patient", "parent"):
        assert _export(client_as(getattr(cast, persona)), cast, pcp).status_code == 404
    assert not Disclosure.objects.exists()
    _export(client_as(cast.assigned_clinician), cast, pcp)
    disclosure = Disclosure.objects.get()
    url = reverse("consent:staff_disclosure_file", args=[cast.patient.patient.pk, disclosure.pk])
    assert client_as(cast.assigned_clinician).get(url).status_code == 200
    for persona in ("clinical_lead", "on_call", "front_desk", "patient", "parent"):
        assert client_as(getattr(cast, persona)).get(url).status_code == 404
