"""Does a message contain crisis language? A curated phrase list, matched on word edges.

The list favours recall: a missed crisis costs more than an unneeded call. It avoids
single words that are everyday speech ("kill", "die", "dead": "this homework is
killing me", "I'm dead tired"), and matches whole phrases after normalising case,
apostrophes and punctuation, so "don't" and "dont" match alike. Measured against the
test sets in ``tests/data`` (see docs/OPERATIONS.md "Crisis language"): the rates
are asserted by ``tests/test_crisis_language.py``.

A program can add phrases and turn defaults off (``CrisisPhrase`` rows).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_PHRASES: tuple[str, ...] = (
    # Suicide, in the words people use.
    "kill myself",
    "killing myself",
    "kill my self",
    "end my life",
    "ending my life",
    "end it all",
    "ending it all",
    "take my own life",
    "take my life",
    "suicidal",
    "commit suicide",
    "committing suicide",
    "suicide plan",
    "suicide note",
    "thinking about suicide",
    "thoughts of suicide",
    "thinking of suicide",
    "attempt suicide",
    "want to die",
    "wanna die",
    "want to be dead",
    "wish i was dead",
    "wish i were dead",
    "better off dead",
    "better off without me",
    "dont want to live",
    "dont want to be alive",
    "dont want to be here anymore",
    "dont want to wake up",
    "no reason to live",
    "nothing to live for",
    "not worth living",
    "no point in living",
    "no point living",
    "cant go on",
    "cant keep going",
    "unalive",
    "kms",
    "say goodbye to everyone",
    "this is goodbye",
    "ready to die",
    "plan to die",
    # Self-harm and overdose.
    "hurt myself",
    "hurting myself",
    "harm myself",
    "harming myself",
    "self harm",
    "selfharm",
    "cut myself",
    "cutting myself",
    "started cutting",
    "cutting again",
    "overdose",
    "overdosed",
    "took all my pills",
    "take all my pills",
    "took too many pills",
    "swallowed all",
    "hang myself",
    "shoot myself",
    "jump off a bridge",
    "jump in front of",
    # Safety.
    "im not safe",
    "i am not safe",
    "not safe at home",
    "not safe right now",
    "dont feel safe",
    "hurt someone",
    "kill someone",
    "kill him",
    "kill her",
    "kill them",
)

# Everyday phrases that contain a crisis phrase but are not one: removed before matching.
EXCEPTIONS: tuple[str, ...] = (
    "cut myself a break",
    "cut myself some slack",
    "die my hair",
    "want to die my",
)

_APOSTROPHES = str.maketrans({"\u2019": "", "\u2018": "", "'": "", "`": ""})
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """Lower case, apostrophes dropped ("don't" → "dont"), punctuation to single spaces."""
    lowered = text.lower().translate(_APOSTROPHES)
    return " " + _NON_WORD.sub(" ", lowered).strip() + " "


def find_crisis_phrase(text: str, phrases: Iterable[str] = DEFAULT_PHRASES) -> str | None:
    """The first phrase (in list order) that occurs in ``text`` as whole words, or None."""
    haystack = normalize(text)
    for exception in EXCEPTIONS:
        haystack = haystack.replace(normalize(exception), " ")
    for phrase in phrases:
        needle = normalize(phrase)
        if needle.strip() and needle in haystack:
            return phrase
    return None


# A plea for help now, without crisis language: "I need to talk to someone now". Not a
# crisis phrase (it raises no "crisis language" flag), but the patient is asking for
# urgent contact as surely as by ticking "urgent", so it raises the urgent request and is
# answered at once with the crisis options. Immediacy words ("now", "asap", "urgent",
# "emergency") carry it; the false-alarm rate on the ordinary-message set is measured by
# ``tests/test_crisis_language.py`` and stated in docs/OPERATIONS.md.
DEFAULT_PLEAS: tuple[str, ...] = (
    "talk to someone now",
    "talk to someone right now",
    "talk to somebody now",
    "talk to somebody right now",
    "talk to someone asap",
    "talk to someone today",
    "need to talk now",
    "need to talk right now",
    "need to talk asap",
    "need someone now",
    "need someone right now",
    "need somebody now",
    "need help now",
    "need help right now",
    "need help asap",
    "need help immediately",
    "help me now",
    "help me please",
    "please help me",
    "please help",
    "call me now",
    "call me right now",
    "call me asap",
    "call me back asap",
    "call me as soon as you can",
    "call me immediately",
    "need you to call me",
    "someone please call me",
    "is anyone there",
    "anyone there",
    "cant cope",
    "cant take it anymore",
    "cant take this anymore",
    "cant do this anymore",
    "falling apart",
    "panic attack right now",
    "having a panic attack",
    "its urgent",
    "this is urgent",
    "urgent please",
    "its an emergency",
    "this is an emergency",
    "having an emergency",
    "emergency",
)

# Everyday phrases that contain a plea word but are not one: removed before matching.
PLEA_EXCEPTIONS: tuple[str, ...] = (
    "not urgent",
    "isnt urgent",
    "no emergency",
    "not an emergency",
    "not emergency",
    "emergency room",
    "emergency contact",
    "urgent care",
)


def find_urgent_plea(text: str, pleas: Iterable[str] = DEFAULT_PLEAS) -> str | None:
    """The first plea (in list order) in ``text`` as whole words, or None."""
    haystack = normalize(text)
    for exception in PLEA_EXCEPTIONS:
        haystack = haystack.replace(normalize(exception), " ")
    for plea in pleas:
        needle = normalize(plea)
        if needle.strip() and needle in haystack:
            return plea
    return None
