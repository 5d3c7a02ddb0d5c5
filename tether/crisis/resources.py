"""Crisis contacts shown on every patient page and on the public crisis page.

National numbers are facts from ../shared/reference/clinical.md (United States).
Each program adds its own crisis line and after-hours on-call number.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tether.lib.phones import display_phone
from tether.organizations.models import Program


@dataclass(frozen=True)
class CrisisContact:
    label: str | Promise
    number: str
    detail: str | Promise = ""
    can_call: bool = True
    text_body: str = ""  # prefilled SMS body, e.g. "HOME" for Crisis Text Line
    can_text: bool = False
    dial: str = ""  # the stored number (E.164) when ``number`` is formatted for reading

    def _digits(self) -> str:
        source = self.dial or self.number
        return "".join(ch for ch in source if (ch.isascii() and ch.isdigit()) or ch == "+")

    @property
    def tel_href(self) -> str:
        return "tel:" + self._digits()

    @property
    def sms_href(self) -> str:
        return f"sms:{self._digits()}" + (f"?&body={self.text_body}" if self.text_body else "")


NATIONAL_CONTACTS: tuple[CrisisContact, ...] = (
    CrisisContact(
        _("988 Suicide & Crisis Lifeline"),
        "988",
        _("Call or text 988, any time. Chat at 988lifeline.org."),
        can_text=True,
    ),
    CrisisContact(_("Emergency"), "911", _("If you are in danger now, call 911.")),
    CrisisContact(
        _("Crisis Text Line"),
        "741741",
        _("Text HOME to 741741."),
        can_call=False,
        can_text=True,
        text_body="HOME",
    ),
)


def program_contacts(program: Program, *, hide_name: bool = False) -> list[CrisisContact]:
    """``hide_name``: where Part 2 information must not show (a shared device, a family
    member) the name of a substance-use program is not shown either."""
    hidden = hide_name and program.treats_substance_use
    contacts = [
        CrisisContact(
            _("Your program's crisis line")
            if hidden
            else _("%(program)s crisis line") % {"program": program.name},
            display_phone(program.crisis_line),
            " ".join(
                [str(_("Your program's crisis line."))]
                + ([str(_("Spanish spoken."))] if program.spanish_spoken else [])
            ),
            dial=program.crisis_line,
            # Only when the program says texts reach a person: a text to a landline is lost.
            can_text=program.crisis_line_takes_texts,
        )
    ]
    if program.after_hours_line:
        contacts.append(
            CrisisContact(
                _("After-hours on-call clinician"),
                display_phone(program.after_hours_line),
                _("Evenings, nights and weekends."),
                dial=program.after_hours_line,
            )
        )
    return contacts
