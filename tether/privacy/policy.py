"""The decision table: who may do what, to which category of a patient's record.

This file is the one place a privacy officer reads to know the rules. The gate
(``tether.privacy.gate``) applies it; nothing else decides access.

A decision has three inputs beyond tenancy:

- the actor's **relation** to the patient (derived from the database by the gate),
- the record's **category**,
- the **action**.

Consent (42 CFR Part 2, proxies' scope) is applied on top of this table by
``consent_allows`` in the gate; until the consent issue lands, Part 2 records
go to nobody but the patient and their own care team.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    GENERAL = "general", _("General (appointments, attendance, resources)")
    MENTAL_HEALTH = "mental_health", _("Mental-health clinical record")
    SELF_REPORT = "self_report", _("Patient self-report (check-ins, measures, homework)")
    PSYCHOTHERAPY_NOTE = "psychotherapy_note", _("Psychotherapy note")
    PART2 = "part2", _("Substance-use record (42 CFR Part 2)")
    SHARED = "shared", _("Written with the care team (safety plan, homework, messages)")


class Action(models.TextChoices):
    VIEW = "view", _("view")
    CREATE = "create", _("create")
    UPDATE = "update", _("change")
    EXPORT = "export", _("export")
    # Send records to someone outside the program (a care-coordination update, a
    # measure-history file): a disclosure, always under a consent in force naming the
    # recipient (``gate.may_disclose``). Not the patient's own copy: that is EXPORT.
    DISCLOSE = "disclose", _("disclose")


class Relation(models.TextChoices):
    """How the actor stands to the patient. Order matters: strongest first."""

    SELF = "self", _("the patient")
    CARE_TEAM = "care_team", _("on the patient's care team")
    BREAK_GLASS = "break_glass", _("emergency access (break-glass)")
    PROGRAM_LEAD = "program_lead", _("clinical lead of the patient's program")
    PROGRAM_ON_CALL = "program_on_call", _("on-call clinician for the patient's program")
    PROGRAM_FRONT_DESK = "program_front_desk", _("front desk of the patient's program")
    PROGRAM_ADMIN = "program_admin", _("admin of the patient's program")
    PROXY = "proxy", _("family member or proxy")
    NONE = "none", _("no relation")


C, A, R = Category, Action, Relation
_READ = frozenset({A.VIEW})
_READ_WRITE = frozenset({A.VIEW, A.CREATE, A.UPDATE})
_FOLLOW_UP = frozenset({A.VIEW, A.CREATE})
_SELF_ALL = frozenset({A.VIEW, A.CREATE, A.UPDATE, A.EXPORT})
# The care team sends records outside the program (never anyone else); the recipient's
# consent is checked on top by ``gate.may_disclose``.
_CARE_TEAM_SENDS = _READ_WRITE | {A.DISCLOSE}
_NOTHING: frozenset[Action] = frozenset()

# RULES[relation][category] -> the actions allowed, before consent.
# Anything not listed is denied. Reasons for each row are in docs/PRIVACY.md.
RULES: dict[Relation, dict[Category, frozenset[Action]]] = {
    R.SELF: {
        # Create and update: the patient's own directives about their record (consents
        # signed and revoked, family members' access), never what staff wrote.
        C.GENERAL: _SELF_ALL,
        # Create: asking for a correction (45 CFR 164.526), appended to the record; the
        # patient never changes what staff wrote.
        C.MENTAL_HEALTH: _READ | {A.CREATE, A.EXPORT},
        C.SELF_REPORT: _SELF_ALL,
        # HIPAA's right of access excludes psychotherapy notes (45 CFR 164.524(a)(1)(i)).
        C.PSYCHOTHERAPY_NOTE: _NOTHING,
        C.PART2: _READ | {A.EXPORT},
        C.SHARED: _SELF_ALL,
    },
    R.CARE_TEAM: {
        C.GENERAL: _CARE_TEAM_SENDS,
        C.MENTAL_HEALTH: _CARE_TEAM_SENDS,
        # The patient's words: read, never written, but sent on with consent (measures).
        C.SELF_REPORT: _READ | {A.DISCLOSE},
        # Only the note's own author may read it; the gate checks authorship per record.
        # Psychotherapy notes never leave the program this way.
        C.PSYCHOTHERAPY_NOTE: _READ_WRITE,
        # §2.31: only with the patient's written consent naming the recipient.
        C.PART2: _CARE_TEAM_SENDS,
        C.SHARED: _CARE_TEAM_SENDS,
    },
    R.BREAK_GLASS: {
        C.GENERAL: _READ,
        C.MENTAL_HEALTH: _READ,
        C.SELF_REPORT: _READ,
        C.PSYCHOTHERAPY_NOTE: _NOTHING,
        # §2.51 medical emergency: disclosure to meet a bona fide emergency, documented.
        C.PART2: _READ,
        C.SHARED: _READ,
    },
    R.PROGRAM_LEAD: {
        C.GENERAL: _READ_WRITE,
        # Create: documenting follow-up (a flag acknowledged, assigned or resolved with a
        # note; an urgent request acknowledged and its contact documented). Never change
        # the clinical record.
        C.MENTAL_HEALTH: _FOLLOW_UP,
        C.SELF_REPORT: _READ,
        C.PSYCHOTHERAPY_NOTE: _NOTHING,
        C.PART2: _NOTHING,
        C.SHARED: _READ,
    },
    R.PROGRAM_ON_CALL: {
        C.GENERAL: _READ,
        # Create: documenting crisis follow-up, as for the lead.
        C.MENTAL_HEALTH: _FOLLOW_UP,
        C.SELF_REPORT: _READ,
        C.PSYCHOTHERAPY_NOTE: _NOTHING,
        C.PART2: _NOTHING,
        # On-call covers crises: the safety plan and recent messages matter most.
        C.SHARED: _READ,
    },
    R.PROGRAM_FRONT_DESK: {
        C.GENERAL: _READ_WRITE,
        C.MENTAL_HEALTH: _NOTHING,
        C.SELF_REPORT: _NOTHING,
        C.PSYCHOTHERAPY_NOTE: _NOTHING,
        C.PART2: _NOTHING,
        C.SHARED: _NOTHING,
    },
    R.PROGRAM_ADMIN: {
        C.GENERAL: _READ,
        C.MENTAL_HEALTH: _NOTHING,
        C.SELF_REPORT: _NOTHING,
        C.PSYCHOTHERAPY_NOTE: _NOTHING,
        C.PART2: _NOTHING,
        C.SHARED: _NOTHING,
    },
    R.PROXY: {
        # Narrowed further by the proxy's scopes in the gate: view needs a scope for
        # anything past the family page; create only with the messaging or family
        # assignments scope.
        C.GENERAL: _READ | {A.CREATE},
        C.MENTAL_HEALTH: _NOTHING,
        C.SELF_REPORT: _NOTHING,
        C.PSYCHOTHERAPY_NOTE: _NOTHING,
        C.PART2: _NOTHING,
        C.SHARED: _NOTHING,
    },
    R.NONE: {category: _NOTHING for category in Category},
}


def allowed(relation: Relation, category: Category, action: Action) -> bool:
    return action in RULES[relation][category]


_ACTION_LETTER = {
    Action.VIEW: "V",
    Action.CREATE: "C",
    Action.UPDATE: "U",
    Action.EXPORT: "E",
    Action.DISCLOSE: "D",
}


def as_markdown() -> str:
    """The decision table as Markdown, for docs/PRIVACY.md (a test keeps the two equal)."""
    categories = list(Category)
    header = "| relation | " + " | ".join(c.value for c in categories) + " |"
    rule = "|---|" + "---|" * len(categories)
    rows = []
    for relation in Relation:
        cells = []
        for category in categories:
            actions = RULES[relation][category]
            letters = "".join(_ACTION_LETTER[a] for a in Action if a in actions)
            cells.append(letters or "—")
        rows.append(f"| {relation.value} | " + " | ".join(cells) + " |")
    return "\n".join([header, rule, *rows])
