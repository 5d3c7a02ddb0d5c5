"""The utilization-review packet as a PDF (fpdf2, the library of the consent PDF).

The first page opens with the notice the disclosure carries: §2.32 statement 1 (and
statement 2) for Part 2 content, else the program's consent notice; then who it is
about, from whom, to whom (with the payer's identifiers), the period and the consents
it is released under. The trend charts are the chart module's SVG
(``tether.checkins.charts``), drawn by fpdf2; each has its scores in a table.
"""

from __future__ import annotations

import datetime as dt
import io
import logging

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from fpdf.fonts import FontFace

from tether.consent.models import ConsentDirective, Recipient
from tether.consent.notice import PART2_NOTICE_SHORT
from tether.consent.packet import Packet
from tether.consent.pdf import _Document
from tether.privacy.policy import Category


def _day(value: dt.date | None) -> str:
    return date_format(value, "M j, Y") if value else ""


class _PacketDocument(_Document):
    def heading(self, text: str) -> None:
        self.pdf.ln(2)
        self.pdf.set_font(self.family, "B", 13)
        self.pdf.multi_cell(0, 7, self._text(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def table(self, headings: list[str], rows: list[list[str]]) -> None:
        self.pdf.set_font(self.family, "", 9)
        with self.pdf.table(
            headings_style=FontFace(emphasis="BOLD"),
            line_height=5,
            text_align="LEFT",
            first_row_as_headings=True,
        ) as table:
            row = table.row()
            for text in headings:
                row.cell(self._text(text))
            for values in rows:
                row = table.row()
                for text in values:
                    row.cell(self._text(text))
        self.pdf.ln(2)

    def svg(self, svg: str) -> None:
        if not svg:
            return
        # fpdf2 logs every SVG feature it skips; the chart uses none that matter here.
        logger = logging.getLogger("fpdf.svg")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            self.pdf.image(io.BytesIO(svg.encode()), w=120)
        finally:
            logger.setLevel(level)
        self.pdf.ln(2)


def packet_pdf(
    packet: Packet,
    *,
    notice: str,
    sender: str,
    recipient: Recipient,
    consents: list[ConsentDirective],
    sent_at: str,
    sent_by: str,
) -> bytes:
    doc = _PacketDocument()
    patient = packet.patient
    title = _("Utilization-review packet")
    doc.pdf.set_title(title)
    doc.pdf.set_creator("Tether")
    doc.title(title)
    part2 = Category.PART2 in packet.categories
    # The notice first, on the first page (42 CFR 2.32).
    doc.term(_("Notice to the recipient"), notice)
    if part2:
        doc.paragraph(PART2_NOTICE_SHORT)
    doc.term(
        _("Patient"),
        _("%(name)s, born %(born)s, record number %(mrn)s")
        % {
            "name": patient.display_name,
            "born": _day(patient.date_of_birth),
            "mrn": patient.record_number,
        },
    )
    doc.term(_("From"), sender)
    payer = str(recipient)
    if recipient.plan_identifier:
        payer = f"{payer}; {_('plan or group number')} {recipient.plan_identifier}"
    doc.term(_("To"), payer)
    doc.term(
        _("Period"),
        _("%(start)s to %(end)s")
        % {"start": _day(packet.period.start), "end": _day(packet.period.end)},
    )
    doc.term(
        _("Released under the patient's consent"),
        "; ".join(
            _("%(category)s: %(description)s (signed %(signed)s, %(ends)s)")
            % {
                "category": c.get_category_display(),
                "description": c.description,
                "signed": _day(c.signed_at.date()),
                "ends": _("ends %(day)s") % {"day": _day(c.expires_on)}
                if c.expires_on
                else c.expiry_event,
            }
            for c in consents
        ),
    )
    doc.term(_("Prepared"), f"{sent_at}, {sent_by}")

    doc.heading(_("Level of care and dates"))
    if not packet.episodes:
        doc.paragraph(_("No episode of care in this period."))
    for episode in packet.episodes:
        lines = [
            _("Admitted %(day)s to %(program)s at %(level)s.")
            % {
                "day": _day(episode.admitted_on),
                "program": episode.program,
                "level": episode.admitted_level,
            }
        ]
        lines += [
            _("%(day)s: %(change)s.") % {"day": _day(step.day), "change": step.text}
            for step in episode.steps
        ]
        if episode.discharged_on:
            lines.append(
                _("Discharged %(day)s: %(reason)s.")
                % {"day": _day(episode.discharged_on), "reason": episode.discharge_reason or "-"}
            )
        else:
            lines.append(_("Still in care at %(level)s.") % {"level": episode.current_level})
        doc.paragraph("\n".join(lines))

    doc.heading(_("Attendance"))
    doc.paragraph(", ".join(f"{label}: {count}" for label, count in packet.attendance_counts))
    if packet.sessions:
        doc.table(
            [_("Date"), _("Session"), _("Attendance")],
            [[_day(s.day), s.session, s.mark] for s in packet.sessions],
        )

    doc.heading(_("Measures"))
    if not packet.measures:
        doc.paragraph(_("No completed PHQ-9 or GAD-7 in this care up to the period's end."))
    for measure in packet.measures:
        doc.term(
            measure.name,
            _(
                "Reliable change: %(rc)s points or more; caseness: %(case)s or more "
                "(NHS Talking Therapies conventions). Scores from the first of this care "
                "(the baseline); scores before the period are marked."
            )
            % {"rc": measure.reliable_change, "case": measure.caseness_at},
        )
        doc.svg(measure.chart_svg)
        doc.paragraph(measure.chart_description, size=9)
        doc.table(
            [_("Date"), _("Score"), _("Severity"), _("Change from baseline")],
            [
                [
                    _day(s.day) + ("" if s.in_period else f" ({_('before the period')})"),
                    str(s.score),
                    s.severity,
                    s.marker or _("Baseline"),
                ]
                for s in measure.scores
            ],
        )

    doc.heading(_("Between sessions"))
    e = packet.engagement
    rows = []
    if e.has_daily_checkin:
        rows.append([_("Daily check-ins done"), f"{e.checkins_done} / {e.checkins_due}"])
    else:
        rows.append([_("Daily check-ins"), _("Not part of this program")])
    rows += [
        [
            _("Homework due in the period, done"),
            f"{e.homework_done} / {e.homework_due} ({_('late')}: {e.homework_late})",
        ],
        [_("Messages from the patient"), str(e.messages_from_patient)],
        [_("Messages from the care team"), str(e.messages_from_team)],
        [
            _("Urgent contact requests (crisis pathway)"),
            str(e.urgent_requests)
            + (
                f" ({', '.join(_day(d) for d in e.urgent_request_days)})"
                if e.urgent_request_days
                else ""
            ),
        ],
    ]
    doc.table([_("Engagement"), _("In the period")], rows)

    doc.heading(_("Clinician's summary"))
    doc.paragraph(packet.summary, size=11)
    if part2:
        doc.paragraph(PART2_NOTICE_SHORT)
    return doc.output()
