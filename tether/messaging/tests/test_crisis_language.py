"""The crisis-phrase list, measured: false positives on ordinary messages, recall on crisis ones.

The numbers are stated in docs/OPERATIONS.md ("Crisis language in messages"); this test
fails if the list drifts away from them.
"""

from __future__ import annotations

from pathlib import Path

from tether.messaging.crisis_language import find_crisis_phrase, normalize
from tether.messaging.services import crisis_phrase_set, crisis_phrases_for

DATA = Path(__file__).parent / "data"


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_it_rarely_flags_ordinary_messages():
    ordinary = _lines("ordinary_messages.txt")
    assert len(ordinary) >= 200
    flagged = [m for m in ordinary if find_crisis_phrase(m)]
    # 3 of 214 (1.4%): a cousin's overdose, "I'm not suicidal", "ready to die... of happiness".
    # Each is one a clinician would rather read than miss.
    assert len(flagged) / len(ordinary) <= 0.015, flagged


def test_it_finds_every_crisis_message_in_the_set():
    crisis = _lines("crisis_messages.txt")
    assert len(crisis) >= 50
    missed = [m for m in crisis if not find_crisis_phrase(m)]
    assert missed == []


def test_it_ignores_everyday_uses_of_kill_and_die():
    for text in (
        "This homework is killing me",
        "I could kill for a coffee",
        "I'm dead tired",
        "I'm dying to see you",
        "I want to die my hair blue",
        "I cut myself a break today",
    ):
        assert find_crisis_phrase(text) is None, text


def test_it_matches_across_case_apostrophes_and_punctuation():
    assert find_crisis_phrase("I DON\u2019T want to live!!!") == "dont want to live"
    assert normalize("Don't, STOP.") == " dont stop "


def test_it_uses_the_programs_own_changes(cast):
    crisis_phrase_set(
        program=cast.iop, phrase="Going to disappear", active=True, user=cast.program_admin
    )
    crisis_phrase_set(program=cast.iop, phrase="kms", active=False, user=cast.program_admin)
    phrases = crisis_phrases_for(cast.iop)
    assert "going to disappear" in phrases
    assert "kms" not in phrases
    assert find_crisis_phrase("I'm going to disappear", phrases) == "going to disappear"
    assert "kms" in crisis_phrases_for(cast.adolescent_iop)  # another program is unchanged


def test_a_plea_for_help_now_is_found_and_rarely_on_ordinary_messages():
    from tether.messaging.crisis_language import find_urgent_plea

    ordinary = _lines("ordinary_messages.txt")
    false_alarms = [m for m in ordinary if find_urgent_plea(m)]
    # 0 of 214 (0%) today: docs/OPERATIONS.md "Crisis language in messages".
    assert len(false_alarms) / len(ordinary) <= 0.01, false_alarms
    pleas = _lines("urgent_pleas.txt")
    assert len(pleas) >= 28
    assert [m for m in pleas if not find_urgent_plea(m)] == []


def test_it_does_not_take_not_urgent_for_a_plea():
    from tether.messaging.crisis_language import find_urgent_plea

    for text in (
        "Not urgent, but can we move Thursday?",
        "It isn't urgent",
        "No emergency, just checking in",
        "I was at urgent care with my son",
        "Who is my emergency contact on file?",
    ):
        assert find_urgent_plea(text) is None, text
