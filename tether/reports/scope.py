"""Who may see the reports, and for what: programs, period, clinician.

Clinical leads and program admins of a program see its figures (aggregates only). A
program that treats substance use (42 CFR Part 2) is counted only for a viewer whose
relation to its patients the decision table lets read Part 2 records; otherwise it is
left out and the page says so (``Scope.part2_left_out``). The table decides, not
this module: today no program role may read Part 2, so Part 2 programs are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from tether.organizations.models import Program, StaffMember
from tether.privacy.policy import Action, Category, Relation, allowed
from tether.reports.tables import SMALLEST_SHOWN

REPORT_ROLES = {
    StaffMember.Role.CLINICAL_LEAD: Relation.PROGRAM_LEAD,
    StaffMember.Role.PROGRAM_ADMIN: Relation.PROGRAM_ADMIN,
}
DEFAULT_DAYS = 91  # thirteen weeks
LONGEST_DAYS = 400


def may_view_reports(staff: StaffMember | None) -> bool:
    return staff is not None and staff.is_active and staff.role in REPORT_ROLES


@dataclass(frozen=True)
class Scope:
    organization_id: int
    program_ids: tuple[int, ...]
    start: dt.date
    end: dt.date  # inclusive
    clinician_id: int | None = None
    part2_left_out: tuple[str, ...] = ()

    @property
    def start_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def end_at(self) -> dt.datetime:
        """The first moment after the period."""
        return timezone.make_aware(
            dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min)
        )


class ScopeRefused(Exception):
    """The filters asked for something the viewer may not see, or make no sense."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def viewable_programs(staff: StaffMember) -> tuple[list[Program], list[Program]]:
    """The programs whose figures this person may see, and those left out (Part 2)."""
    relation = REPORT_ROLES[StaffMember.Role(staff.role)]
    counted, left_out = [], []
    for program in staff.programs.filter(is_active=True).order_by("name"):
        if program.treats_substance_use and not allowed(relation, Category.PART2, Action.VIEW):
            left_out.append(program)
        else:
            counted.append(program)
    return counted, left_out


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ScopeRefused(
            _("The %(name)s date is not a date.") % {"name": name}, "bad_date"
        ) from None


def scope_from_query(
    staff: StaffMember, query: dict[str, str], *, today: dt.date | None = None
) -> Scope:
    """The scope asked for in the page's query string, or ``ScopeRefused``."""
    today = today or timezone.localdate()
    counted, left_out = viewable_programs(staff)
    end = _date(query["end"], _("end")) if query.get("end") else today
    start = (
        _date(query["start"], _("start"))
        if query.get("start")
        else end - dt.timedelta(days=DEFAULT_DAYS - 1)
    )
    if end < start:
        raise ScopeRefused(_("The period ends before it starts."), "period_reversed")
    if (end - start).days >= LONGEST_DAYS:
        raise ScopeRefused(_("Choose a period of at most 400 days."), "period_too_long")
    program_ids = tuple(p.pk for p in counted)
    if query.get("program"):
        try:
            wanted = int(query["program"])
        except ValueError:
            wanted = -1
        if wanted not in program_ids:
            raise ScopeRefused(
                _("That program is not one whose figures you may see."), "program_refused"
            )
        program_ids = (wanted,)
    clinician_id = None
    if query.get("clinician"):
        try:
            clinician_id = int(query["clinician"])
        except ValueError:
            clinician_id = -1
        if not StaffMember.objects.filter(
            pk=clinician_id, organization_id=staff.organization_id, programs__in=program_ids
        ).exists():
            raise ScopeRefused(
                _("That clinician does not work in these programs."), "clinician_refused"
            )
    return Scope(
        organization_id=staff.organization_id,
        program_ids=program_ids,
        start=start,
        end=end,
        clinician_id=clinician_id,
        part2_left_out=tuple(p.name for p in left_out),
    )


SMALL_GROUP_REFUSAL = "too_few_patients"


def check_not_isolating(scope: Scope) -> None:
    """A clinician filter that leaves 1 to 10 episodes would make every figure a figure
    about those few people: refused, whatever the suppression would hide."""
    if scope.clinician_id is None:
        return
    from tether.reports.figures import scope_episodes

    count = scope_episodes(scope).count()
    if 1 <= count < SMALLEST_SHOWN:
        raise ScopeRefused(
            _(
                "This clinician has fewer than 11 patients in the period: their figures "
                "would be about identifiable people. Choose a longer period or the whole "
                "program."
            ),
            SMALL_GROUP_REFUSAL,
        )
