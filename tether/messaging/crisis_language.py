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
