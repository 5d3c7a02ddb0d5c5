"""Which language an instrument's questions are shown in, and where the words come from.

Two kinds of wording, kept apart on purpose:

- Tether's own self-monitoring scale (the daily check-in) is not a validated measure:
  its Spanish lives in the gettext catalogue like any other page text (the msgids are
  listed below so makemessages and tether/lib/catalogue.py find them).
- A validated instrument (PHQ-9, PHQ-2, GAD-7, AUDIT-C) is shown in Spanish only in the
  wording its copyright holder published, taken from ../shared/reference/ (or an
  official copy stored there). Never translated here, never machine-translated. Until
  that wording is in the reference, a Spanish reader sees the English questions with a
  note, and the response records that it was answered in English.

Status (docs/I18N.md): no published Spanish wording is in the reference yet, so
PUBLISHED_SPANISH is empty and the PHQ-9, PHQ-2, GAD-7 and AUDIT-C are BLOCKED in Spanish.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

ENGLISH = "en"
SPANISH = "es"

# Instruments whose wording is Tether's own: translated through the catalogue.
OWN_WORDING = frozenset({"daily"})

# Validated instruments with their published Spanish wording in the reference:
# code -> where the wording came from. Empty: none is in ../shared/reference/ yet.
PUBLISHED_SPANISH: dict[str, str] = {}

# The daily check-in's words (tether/checkins/instruments/daily.v1.json), for the catalogue.
DAILY_WORDING = (
    gettext_noop("Daily check-in"),
    gettext_noop("How is your mood today?"),
    gettext_noop("Very low"),
    gettext_noop("Very good"),
    gettext_noop("How did you sleep last night?"),
    gettext_noop("Badly"),
    gettext_noop("Not so well"),
    gettext_noop("OK"),
    gettext_noop("Well"),
    gettext_noop("How strong were your cravings today?"),
    gettext_noop("None"),
    gettext_noop("Very strong"),
    gettext_noop("Anything you want your care team to know? (You can leave this empty.)"),
)


def _base(language: str) -> str:
    return (language or ENGLISH).split("-")[0].lower()


def shown_in(*, instrument_code: str, language: str) -> str:
    """The language the questions are actually shown in for a reader of ``language``."""
    if _base(language) == SPANISH and (
        instrument_code in OWN_WORDING or instrument_code in PUBLISHED_SPANISH
    ):
        return SPANISH
    return ENGLISH


def is_blocked(*, instrument_code: str, language: str) -> bool:
    """A reader asked for another language, and this instrument has no wording in it."""
    return (
        _base(language) != ENGLISH
        and shown_in(instrument_code=instrument_code, language=language) == ENGLISH
    )


def wording(text: str, *, shown: str) -> str:
    """An instrument's text in the language it is shown in (own wording only)."""
    return gettext(text) if shown != ENGLISH and text else text
