"""The measure-history export: a patient's PHQ-9 and GAD-7 scores with their dates, as
a CSV file for someone outside the program (a disclosure), the notice at its top.

Plain data, no FHIR: lines starting with ``#`` are the header (who, from whom, the
notice); then one CSV row per completed measure. The file's category is the strictest
label of the responses in it: one Part 2 response makes the whole file Part 2.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from tether.checkins.models import Response
from tether.consent.notice import PART2_NOTICE_SHORT, PART2_SECURITY_LABELS
from tether.patients.models import Patient
from tether.privacy.policy import Category

MEASURES = {"phq9": "PHQ-9", "gad7": "GAD-7"}


@dataclass(frozen=True)
class MeasureRow:
    date: str
    measure: str
    score: int
    severity: str
    category: str


def measure_rows(*, patient: Patient) -> list[MeasureRow]:
    """Every completed PHQ-9 and GAD-7 of the patient, oldest first (one query)."""
    responses = (
        Response.objects.filter(
            patient=patient,
            instrument__code__in=list(MEASURES),
            status=Response.Status.COMPLETE,
            total__isnull=False,
            submitted_at__isnull=False,
        )
        .select_related("instrument")
        .order_by("submitted_at", "pk")
    )
    rows = []
    for response in responses:
        if response.total is None or response.submitted_at is None:  # filtered out above
            continue
        band = response.instrument.spec.band_for(response.total)
        rows.append(
            MeasureRow(
                date=timezone.localtime(response.submitted_at).date().isoformat(),
                measure=MEASURES[response.instrument.code],
                score=response.total,
                severity=str(band.label) if band else "",
                category=response.record_category,
            )
        )
    return rows


def category_of(rows: list[MeasureRow]) -> Category:
    """Part 2 if any row is a Part 2 record, else self-report."""
    if any(row.category == Category.PART2 for row in rows):
        return Category.PART2
    return Category.SELF_REPORT


def _comment(text: str) -> str:
    return "# " + " ".join(text.split())


def measure_file(
    *,
    patient: Patient,
    rows: list[MeasureRow],
    category: Category,
    notice: str,
    sender: str,
    recipient: str,
    sent_at: str,
) -> str:
    """The exported file, the notice first."""
    lines = [_comment(_("Notice to the recipient: %(notice)s") % {"notice": notice})]
    if category == Category.PART2:
        lines.append(_comment(PART2_NOTICE_SHORT))
        lines.append(
            _comment(_("Security labels: %(labels)s") % {"labels": " ".join(PART2_SECURITY_LABELS)})
        )
    lines += [
        _comment(_("Measure history (PHQ-9 and GAD-7 scores)")),
        _comment(
            _("Patient: %(name)s, born %(born)s")
            % {"name": patient.display_name, "born": patient.date_of_birth.isoformat()}
        ),
        _comment(
            _("From: %(sender)s. To: %(recipient)s.") % {"sender": sender, "recipient": recipient}
        ),
        _comment(_("Sent: %(when)s") % {"when": sent_at}),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["date", "measure", "score", "severity"])
    for row in rows:
        writer.writerow([row.date, row.measure, row.score, row.severity])
    return "\n".join(lines) + "\n" + buffer.getvalue()
