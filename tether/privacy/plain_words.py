"""Audit events told in plain words, for patients ("who viewed my record").

Patients see the *kind* of staff member and whether they are on their care team,
never staff names (docs/PRIVACY.md, "Who viewed my record", says why).
"""

from __future__ import annotations

from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tether.organizations.models import StaffMember
from tether.privacy.policy import Action, Category, Relation

_ROLE = StaffMember.Role

# Who, by role and by how they stood to the patient.
_WHO_ON_CARE_TEAM: dict[str, StrPromise] = {
    _ROLE.CLINICIAN: gettext_lazy("A clinician on your care team"),
    _ROLE.CLINICAL_LEAD: gettext_lazy("A clinical lead on your care team"),
    _ROLE.ON_CALL: gettext_lazy("An on-call clinician on your care team"),
}
_WHO_BY_ROLE: dict[str, StrPromise] = {
    _ROLE.CLINICIAN: gettext_lazy("A clinician"),
    _ROLE.CLINICAL_LEAD: gettext_lazy("The clinical lead of your program"),
    _ROLE.ON_CALL: gettext_lazy("The on-call clinician for your program"),
    _ROLE.FRONT_DESK: gettext_lazy("The front desk of your program"),
    _ROLE.PROGRAM_ADMIN: gettext_lazy("A program administrator"),
    _ROLE.PRIVACY_OFFICER: gettext_lazy("A privacy officer"),
    "proxy": gettext_lazy("A family member you share your record with"),
}

# What they did, by action and category of record.
_WHAT: dict[tuple[str, str], StrPromise] = {
    (Action.VIEW, Category.GENERAL): gettext_lazy("looked at your record"),
    (Action.VIEW, Category.MENTAL_HEALTH): gettext_lazy("looked at your treatment record"),
    (Action.VIEW, Category.SELF_REPORT): gettext_lazy("looked at your check-ins and answers"),
    (Action.VIEW, Category.PSYCHOTHERAPY_NOTE): gettext_lazy("looked at a therapy note"),
    (Action.VIEW, Category.PART2): gettext_lazy("looked at your substance use treatment record"),
    (Action.CREATE, Category.GENERAL): gettext_lazy("added to your record"),
    (Action.CREATE, Category.MENTAL_HEALTH): gettext_lazy("added to your treatment record"),
    (Action.CREATE, Category.SELF_REPORT): gettext_lazy("added to your check-ins and answers"),
    (Action.CREATE, Category.PSYCHOTHERAPY_NOTE): gettext_lazy("wrote a therapy note"),
    (Action.CREATE, Category.PART2): gettext_lazy("added to your substance use treatment record"),
    (Action.UPDATE, Category.GENERAL): gettext_lazy("changed your record"),
    (Action.UPDATE, Category.MENTAL_HEALTH): gettext_lazy("changed your treatment record"),
    (Action.UPDATE, Category.SELF_REPORT): gettext_lazy("changed your check-ins and answers"),
    (Action.UPDATE, Category.PSYCHOTHERAPY_NOTE): gettext_lazy("changed a therapy note"),
    (Action.UPDATE, Category.PART2): gettext_lazy("changed your substance use treatment record"),
    (Action.EXPORT, Category.GENERAL): gettext_lazy("downloaded a copy of your record"),
    (Action.EXPORT, Category.MENTAL_HEALTH): gettext_lazy(
        "downloaded a copy of your treatment record"
    ),
    (Action.EXPORT, Category.SELF_REPORT): gettext_lazy(
        "downloaded a copy of your check-ins and answers"
    ),
    (Action.EXPORT, Category.PSYCHOTHERAPY_NOTE): gettext_lazy(
        "downloaded a copy of a therapy note"
    ),
    (Action.EXPORT, Category.PART2): gettext_lazy(
        "downloaded a copy of your substance use treatment record"
    ),
    (Action.DISCLOSE, Category.GENERAL): gettext_lazy(
        "sent part of your record to someone outside the program, under your consent"
    ),
    (Action.DISCLOSE, Category.MENTAL_HEALTH): gettext_lazy(
        "sent part of your treatment record to someone outside the program, under your consent"
    ),
    (Action.DISCLOSE, Category.SELF_REPORT): gettext_lazy(
        "sent your check-in and questionnaire scores to someone outside the program, "
        "under your consent"
    ),
    (Action.DISCLOSE, Category.PART2): gettext_lazy(
        "sent part of your substance use treatment record to someone outside the program, "
        "under your consent"
    ),
    (Action.DISCLOSE, Category.SHARED): gettext_lazy(
        "sent part of your record to someone outside the program, under your consent"
    ),
}


def _who(role: str, relation: str) -> str:
    if relation == Relation.CARE_TEAM and role in _WHO_ON_CARE_TEAM:
        return str(_WHO_ON_CARE_TEAM[role])
    if role in _WHO_BY_ROLE:
        return str(_WHO_BY_ROLE[role])
    return _("A staff member")


def _what(action: str, category: str) -> str:
    phrase = _WHAT.get((action, category))
    return str(phrase) if phrase is not None else _("used your record")


def describe(*, role: str, relation: str, acting_as: str, action: str, category: str) -> str:
    """One sentence without the time: "A clinician on your care team looked at your record"."""
    if acting_as == Relation.BREAK_GLASS or relation == Relation.BREAK_GLASS:
        if action == Action.CREATE and category == Category.GENERAL:
            return _("A clinician used emergency access to open your record")
        return _("A clinician used emergency access and %(what)s") % {
            "what": _what(action, category)
        }
    who = _who("proxy" if acting_as == Relation.PROXY else role, relation)
    return _("%(who)s %(what)s") % {"who": who, "what": _what(action, category)}
