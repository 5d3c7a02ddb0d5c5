"""The patient's own record as a human-readable PDF (fpdf2, the library of the consent PDF).

The same content as the page ``/me/record/`` (``record.own_record``), in the same order,
in plain words. A record with Part 2 content opens with the §2.32 notice (statement 1,
verbatim from ``consent.notice``) and the short statement, so the notice travels with
every copy the patient downloads or sends.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from tether.consent.notice import PART2_NOTICE, PART2_NOTICE_SHORT
from tether.portal.record import OwnRecord

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


def _unicode_font() -> tuple[Path, Path] | None:
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def when(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return dateformat.format(timezone.localtime(value), "N j, Y, P")
    return dateformat.format(value, "N j, Y")


class _Document:
    def __init__(self) -> None:
        self.pdf = FPDF(format="Letter")
        self.pdf.set_margins(20, 20, 20)
        self.pdf.set_auto_page_break(auto=True, margin=20)
        font = _unicode_font()
        self.unicode = font is not None
        if font is not None:
            self.pdf.add_font("body", "", str(font[0]))
            self.pdf.add_font("body", "B", str(font[1]))
            self.family = "body"
        else:
            self.family = "helvetica"
        self.pdf.add_page()

    def _text(self, text: str) -> str:
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def title(self, text: str) -> None:
        self.pdf.set_font(self.family, "B", 18)
        self.pdf.multi_cell(0, 9, self._text(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def heading(self, text: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font(self.family, "B", 13)
        self.pdf.multi_cell(0, 7, self._text(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def line(self, text: str, *, bold: bool = False, size: int = 10) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.multi_cell(0, 5, self._text(text), new_x="LMARGIN", new_y="NEXT")

    def nothing(self, text: str) -> None:
        self.line(text)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def record_pdf(record: OwnRecord) -> bytes:
    """The record as PDF bytes. The caller has passed the gate (``export``)."""
    patient = record.patient
    doc = _Document()
    doc.pdf.set_title(_("My health record"))
    doc.pdf.set_creator("Tether")
    doc.title(_("My health record"))
    doc.line(f"{patient.first_name} {patient.last_name}", bold=True, size=12)
    doc.line(
        _("Born %(date)s · Record number %(number)s")
        % {
            "date": when(patient.date_of_birth),
            "number": patient.record_number,
        }
    )
    doc.line(
        _("Made on %(when)s, from everything you can see in Tether.")
        % {"when": when(record.generated_at)}
    )
    if record.part2:
        doc.heading(_("Notice: substance-use treatment records (42 CFR part 2)"))
        doc.line(PART2_NOTICE, size=9)
        doc.pdf.ln(1)
        doc.line(PART2_NOTICE_SHORT, bold=True, size=9)

    doc.heading(_("My programs"))
    for episode in record.episodes:
        ended = (
            _("ended %(date)s") % {"date": when(episode.discharged_on)}
            if episode.discharged_on
            else _("current")
        )
        doc.line(
            f"{episode.program.name} · {episode.get_level_of_care_display()} · "
            + _("from %(date)s") % {"date": when(episode.admitted_on)}
            + f" · {ended}"
        )
    if not record.episodes:
        doc.nothing(_("None."))

    doc.heading(_("Questionnaires and scores"))
    for m in record.measures:
        if m.score is not None:
            score = _("score %(score)s") % {"score": m.score}
            if m.band:
                score += f" ({m.band})"
        else:
            score = _("not finished")
        doc.line(f"{when(m.when)} · {m.name}: {score}", bold=True)
        for question, answer in m.answers:
            doc.line(f"    {question} — {answer}", size=9)
    if not record.measures:
        doc.nothing(_("None sent yet."))

    doc.heading(_("Daily check-ins"))
    for c in record.checkins:
        doc.line(f"{when(c.when)} · {c.name}", bold=True)
        for question, answer in c.answers:
            doc.line(f"    {question} — {answer}", size=9)
    if not record.checkins:
        doc.nothing(_("None sent yet."))

    doc.heading(_("My safety plan"))
    if record.safety_plan is not None:
        doc.line(
            _("Version %(number)s, saved %(when)s")
            % {"number": record.safety_plan.number, "when": when(record.safety_plan.created_at)},
            size=9,
        )
        for step in record.safety_plan.steps():
            doc.line(step["title"], bold=True)
            doc.line(step["text"] or "—")
    else:
        doc.nothing(_("No safety plan yet."))

    doc.heading(_("Homework"))
    for a in record.homework:
        doc.line(
            f"{a.title} · "
            + _("due %(date)s") % {"date": when(a.due_on)}
            + f" · {a.display_status}"
        )
    if not record.homework:
        doc.nothing(_("None."))

    doc.heading(_("Sessions and attendance"))
    for s in record.sessions:
        status = _("cancelled") if s.appointment.is_cancelled else str(s.get_status_display())
        doc.line(f"{when(s.appointment.starts_at)} · {s.appointment.title} · {status}")
    if not record.sessions:
        doc.nothing(_("None."))

    doc.heading(_("Messages with my care team"))
    for message in record.messages:
        doc.line(f"{when(message.created_at)} · {author_words(message)}", bold=True, size=9)
        doc.line(message.body or "—")
    if not record.messages:
        doc.nothing(_("None."))

    doc.heading(_("My consents to share"))
    for consent in record.consents:
        who = str(consent.recipient) if consent.recipient else consent.recipient_class
        doc.line(
            f"{who} · {consent.get_category_display()} · "
            + _("signed %(date)s") % {"date": when(consent.signed_at)}
            + f" · {consent_state_words(consent.state)}"
        )
    if not record.consents:
        doc.nothing(_("None."))

    doc.heading(_("What was shared, and with whom (accounting of disclosures)"))
    doc.line(_("Everything your program sent outside the program in the last 3 years."), size=9)
    for d in record.disclosures:
        doc.line(
            f"{when(d.disclosed_at)} · {d.get_kind_display()} · "
            + _("to %(recipient)s") % {"recipient": d.recipient}
            + f" · {d.get_category_display()} · {d.get_purpose_display()}"
        )
    if not record.disclosures:
        doc.nothing(_("Nothing has been shared."))

    doc.heading(_("Copies of this record you sent"))
    for t in record.transmissions:
        doc.line(
            f"{when(t.sent_at)} · {t.get_channel_display()} · {t.address} · {t.get_format_display()}"
        )
    if not record.transmissions:
        doc.nothing(_("None."))
    return doc.output()


def author_words(message: object) -> str:
    kind = getattr(message, "author_kind", "")
    if kind == "patient":
        return str(_("You"))
    if kind == "system":
        return str(_("Automatic reply"))
    author = getattr(message, "author", None)
    name = author.get_full_name() if author is not None else ""
    if kind == "proxy":
        return _("%(name)s (family)") % {"name": name}
    return name or str(_("Care team"))


def consent_state_words(state: str) -> str:
    return {
        "in_force": str(_("in force")),
        "revoked": str(_("taken back")),
    }.get(state, str(_("ended")))
