"""The named people in the demo clinic and the story each one tells.

Later demo steps (check-ins, measures, flags, messages, consents...) attach their
data to these same people, so the clinic tells one consistent story: look a
person up here by story, never by guessing a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Story(StrEnum):
    IMPROVING = "improving"
    DETERIORATING = "deteriorating"
    SILENT = "silent"
    ADOLESCENT = "adolescent"
    PARENT = "parent"
    SUBSTANCE_USE = "substance_use"
    INVITE_PENDING = "invite_pending"


@dataclass(frozen=True)
class StoryRole:
    story: Story
    summary: str


# username -> story. Every username here exists after ``seed_demo``.
STORIES: dict[str, StoryRole] = {
    "demo.patient": StoryRole(
        Story.IMPROVING,
        "Maya Thompson, 38. Admitted to the Adult PHP, stepped down to the Adult IOP after "
        "three weeks; attends nearly every session and signs in most days.",
    ),
    "derek.l": StoryRole(
        Story.DETERIORATING,
        "Derek Lawson, 36, Adult IOP. Attended well for three weeks; over the last two weeks "
        "he comes late or not at all, and signed in last four days ago.",
    ),
    "tanya.b": StoryRole(
        Story.SILENT,
        "Tanya Brooks, 29, Adult IOP. No session attended and no sign-in for ten days; still "
        "enrolled, with sessions booked.",
    ),
    "demo.teen": StoryRole(
        Story.ADOLESCENT,
        "Riley Chen, 15, Adolescent IOP (after school, Tuesday and Thursday), with family "
        "sessions every other week. Their mother is demo.parent.",
    ),
    "demo.parent": StoryRole(
        Story.PARENT,
        "Laura Chen, Riley's mother and legal guardian: a family-member login for Riley only. "
        "Sees attendance, appointments, a family assignment and a progress update, and has "
        "asked Dana about the family session in the family thread; never Riley's check-ins.",
    ),
    "demo.recovery": StoryRole(
        Story.SUBSTANCE_USE,
        "Jesse Morales, 41, Recovery IOP: a substance-use program, so his records are "
        "42 CFR Part 2 records.",
    ),
    "ruth.c": StoryRole(
        Story.INVITE_PENDING,
        "Ruth Coleman, 45, admitted to the Adult PHP on the last open day; her portal invite "
        "is waiting to be used.",
    ),
}


def username_for(story: Story) -> str:
    """The username of the one person who tells ``story``."""
    for username, role in STORIES.items():
        if role.story == story:
            return username
    raise KeyError(story)
