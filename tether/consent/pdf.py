"""A signed consent as a real PDF (fpdf2, pure Python): every §2.31 element, then the
notice. The same terms as the printable page (``selectors.consent_terms``).

A Unicode font is used when the system has DejaVu Sans (names in any script print);
otherwise the PDF core font, with characters it cannot show replaced.
"""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _
from fpdf import FPDF

from tether.consent.models import ConsentDirective
from tether.consent.notice import PART2_NOTICE_SHORT
from tether.consent.selectors import consent_terms
from tether.consent.services import notice_for
from tether.privacy.gate import record_category_for
from tether.privacy.policy import Category

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
_FONT = "DejaVuSans.ttf"
_FONT_BOLD = "DejaVuSans-Bold.ttf"


def _unicode_font() -> tuple[Path, Path] | None:
    for folder in _FONT_DIRS:
        regular, bold = folder / _FONT, folder / _FONT_BOLD
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _Document:
    def __init__(self) -> None:
        self.pdf = FPDF(format="Letter")
        self.pdf.set_margins(20, 20, 20)
        self.pdf.set_auto_page_break(auto=True, margin=20)
        font = _unicode_font()
        if font is not None:
            self.pdf.add_font("body", "", str(font[0]))
            self.pdf.add_font("body", "B", str(font[1]))
            self.family = "body"
            self.unicode = True
        else:
            self.family = "helvetica"
            self.unicode = False
        self.pdf.add_page()

    def _text(self, text: str) -> str:
        if self.unicode:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")

    def title(self, text: str) -> None:
        self.pdf.set_font(self.family, "B", 16)
        self.pdf.multi_cell(0, 8, self._text(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def term(self, label: str, value: str) -> None:
        self.pdf.set_font(self.family, "B", 11)
        self.pdf.multi_cell(0, 6, self._text(label), new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(self.family, "", 11)
        self.pdf.multi_cell(0, 6, self._text(value), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def paragraph(self, text: str, *, size: int = 10) -> None:
        self.pdf.set_font(self.family, "", size)
        self.pdf.multi_cell(0, 5, self._text(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def consent_pdf(consent: ConsentDirective) -> bytes:
    """The consent as signed, as PDF bytes. The caller has passed the gate."""
    patient = consent.patient
    doc = _Document()
    doc.pdf.set_title(_("Consent to share information"))
    doc.pdf.set_creator("Tether")
    doc.title(_("Consent to share information"))
    if consent.revoked_at is not None:
        doc.paragraph(_("This consent was taken back: nothing more is shared under it."))
    elif not consent.is_in_force():
        doc.paragraph(_("This consent has ended."))
    for label, value in consent_terms(consent):
        doc.term(label, value)
    # A copy of the consent may accompany a disclosure: it carries the notice too. Part 2
    # content (or anything from a Part 2 program) gets §2.32 statement 1.
    part2 = (
        consent.category == Category.PART2
        or record_category_for(patient, Category.MENTAL_HEALTH) == Category.PART2
    )
    doc.term(
        _("Notice to anyone who receives information under this consent"),
        notice_for(Category.PART2 if part2 else Category(consent.category)),
    )
    if part2:
        doc.paragraph(PART2_NOTICE_SHORT)
    return doc.output()
