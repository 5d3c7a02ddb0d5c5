"""Reads of homework. Callers have already asked the gate for the patient."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.http import HttpRequest
from django.utils import timezone

from tether.homework.library import Definition, builtin_library
from tether.homework.models import Assignment, HomeworkAnswers, ProgramTemplate
from tether.lib import statements
from tether.privacy.gate import decide
from tether.privacy.policy import Action, Category
from tether.scheduling.models import Appointment

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.organizations.models import Program
    from tether.patients.models import Patient


@dataclass(frozen=True)
class Completion:
    """Completion and lateness over assignments that are done or past due."""

    assigned: int
    counted: int  # done, or open past the due date
    done: int
    done_on_time: int
    late: int  # done late, or open past the due date

    @property
    def rate(self) -> int | None:
        """Percent of counted assignments that are done (None when nothing counts yet)."""
        return round(100 * self.done / self.counted) if self.counted else None

    @property
    def on_time_rate(self) -> int | None:
        return round(100 * self.done_on_time / self.counted) if self.counted else None


def completion(assignments: list[Assignment]) -> Completion:
    today = timezone.localdate()
    counted = done = on_time = late = 0
    for a in assignments:
        overdue = a.days_late(today) > 0
        if a.is_done or overdue:
            counted += 1
        if a.is_done:
            done += 1
            if overdue:
                late += 1
            else:
                on_time += 1
        elif overdue:
            late += 1
    return Completion(len(assignments), counted, done, on_time, late)


# One definition of "homework done", used by the pre-session review, the caseload board,
# the staff homework page and the staff patient page: over the last four weeks, the
# assignments that were due in that window (up to today) or were finished in it (an
# assignment finished early counts the day it is done, not only once its due date comes).
WINDOW_DAYS = 28


def window_start(today: dt.date) -> dt.date:
    return today - timedelta(days=WINDOW_DAYS - 1)


def window_bounds(today: dt.date) -> dict[str, Any]:
    """The window's first day and first moment (``counted_between``'s ``start`` and
    ``start_at``), as values to bind (``tether.lib.statements``)."""
    start = window_start(today)
    return {
        "start": start,
        "start_at": timezone.make_aware(dt.datetime.combine(start, dt.time.min)),
    }


def counted_assignments(*, today: dt.date | None = None) -> QuerySet[Assignment]:
    """Every patient's assignments that count in the window ending ``today`` (filter it by
    patient, or by ``OuterRef`` for a list)."""
    today = today or timezone.localdate()
    return counted_between(today=today, **window_bounds(today))


def counted_between(
    *, start: dt.date, today: dt.date, start_at: dt.datetime
) -> QuerySet[Assignment]:
    """``counted_assignments`` with the window's first day (``window_start``) and its first
    moment given (a statement compiled once: ``tether.lib.statements``)."""
    return Assignment.objects.filter(
        Q(due_on__gte=start, due_on__lte=today)
        | Q(status=Assignment.Status.DONE, completed_at__gte=start_at)
    )


def late_condition(today: dt.date) -> Q:
    """Open past its due date, or done after it."""
    return Q(due_on__lt=today, completed_at__isnull=True) | Q(completed_at__date__gt=F("due_on"))


def window_completion(
    *,
    patient: Patient,
    today: dt.date | None = None,
    categories: set[str] | frozenset[str] | None = None,
    assigned: int | None = None,
) -> Completion:
    """The patient's homework over the window (one query, two without ``assigned``, how
    many are assigned in all, when the caller knows; see ``counted_assignments``).

    ``categories``: only assignments with these record labels (what the reader may see:
    a Part 2 program's homework is not counted for someone who may not read Part 2)."""
    today = today or timezone.localdate()
    done = Q(status=Assignment.Status.DONE)
    mine = counted_assignments(today=today).filter(patient=patient)
    everything = Assignment.objects.filter(patient=patient)
    if categories is not None:
        mine = mine.filter(record_category__in=categories)
        everything = everything.filter(record_category__in=categories)
    counts = mine.aggregate(
        counted=Count("pk"),
        done=Count("pk", filter=done),
        late=Count("pk", filter=late_condition(today)),
        done_late=Count("pk", filter=done & late_condition(today)),
    )
    if assigned is None:
        assigned = everything.count()
    return Completion(
        assigned=assigned,
        counted=counts["counted"],
        done=counts["done"],
        done_on_time=counts["done"] - counts["done_late"],
        late=counts["late"],
    )


def templates_for(*, programs: list[Program]) -> dict[str, Definition]:
    """The built-in library plus the programs' own templates (a program's wins on a clash)."""
    library = builtin_library()
    for template in ProgramTemplate.objects.filter(program__in=programs, is_active=True).order_by(
        "program_id", "key"
    ):
        library[template.key] = template.parsed()
    return library


def for_patient(*, patient: Patient) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(patient=patient)
        .select_related("assigned_by", "feedback_by")
        .order_by("-due_on", "-pk")
    )


# The home page's homework card lists this many; the rest are a tap away (All my
# homework), so the card does not grow with what is left undone over a year.
HOME_SHOWN = 5


def open_for_patient(
    *, patient: Patient, limit: int | None = None, today: dt.date | None = None
) -> list[Assignment]:
    """What is still to do (for the patient's home page): what is not yet late first,
    soonest due first, then the late ones, most recently due first (an assignment
    left undone months ago never hides this week's); at most ``limit`` of them. Read on
    every home page: its statement is compiled once per process (tether.lib.statements)."""
    values = {"patient": patient.pk, "today": today or timezone.localdate()}
    return statements.instances(
        ("homework.open_for_patient", limit),
        Assignment,
        lambda v: _open_rows(v, limit=limit),
        values,
    )


def _open_rows(values: Mapping[str, Any], *, limit: int | None) -> QuerySet[Assignment]:
    current = Q(due_on__gte=values["today"])
    rows = (
        Assignment.objects.filter(patient_id=values["patient"])
        .exclude(status=Assignment.Status.DONE)
        .order_by(
            Case(When(current, then=Value(0)), default=Value(1)),
            Case(When(current, then=F("due_on"))).asc(nulls_last=True),
            F("due_on").desc(),
            "pk",
        )
    )
    return rows[:limit] if limit is not None else rows


def in_open_order(
    assignments: list[Assignment], *, today: dt.date | None = None
) -> list[Assignment]:
    """Open assignments in ``open_for_patient``'s order (not yet late, soonest due first;
    then the late ones, most recently due first), for a list already read."""
    today = today or timezone.localdate()

    def key(assignment: Assignment) -> tuple[int, int, int]:
        due = assignment.due_on.toordinal()
        if assignment.due_on >= today:
            return (0, due, assignment.pk)
        return (1, -due, assignment.pk)

    return sorted(assignments, key=key)


def for_family(*, patient: Patient) -> list[Assignment]:
    """Family-therapy assignments a family member may read (labelled ``general``; a
    Part 2 program's are never listed). Open ones first, soonest due first."""
    rows = Assignment.objects.filter(
        patient=patient, for_family=True, record_category=Category.GENERAL
    ).order_by("due_on", "pk")
    return sorted(rows, key=lambda a: a.is_done)


def family_assignment(*, patient_id: int, assignment_id: int) -> Assignment | None:
    return Assignment.objects.filter(
        pk=assignment_id, patient_id=patient_id, for_family=True
    ).first()


def answers_category(*, assignment: Assignment) -> str | None:
    """The label of the patient's answers, or None when there are none yet."""
    try:
        return assignment.answers.record_category
    except HomeworkAnswers.DoesNotExist:
        return None


def answers_for(*, assignment: Assignment) -> dict[str, Any]:
    try:
        return assignment.answers.as_dict()
    except HomeworkAnswers.DoesNotExist:
        return {}


def answered_steps(*, assignment: Assignment, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Each step with its fields and answers, for review pages."""
    steps = assignment.parsed().expanded_steps(assignment.starts_on)
    out = []
    for number, step in enumerate(steps, start=1):
        rows = []
        for f in step.fields:
            value = answers.get(f"{number}.{f.key}")
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            rows.append({"label": f.label, "value": "" if value is None else str(value)})
        out.append({"number": number, "title": step.title, "rows": rows})
    return out


def coping_skills_for(*, patient: Patient) -> list[str]:
    """The lines of the patient's latest coping-skills list (shown with the safety plan)."""
    assignment = (
        Assignment.objects.filter(patient=patient, template_key="coping_skills")
        .filter(answers__isnull=False)
        .select_related("answers")
        .order_by("-answers__updated_at")
        .first()
    )
    if assignment is None:
        return []
    skills: list[str] = []
    for key, value in assignment.answers.as_dict().items():
        if key.endswith(".skills") and isinstance(value, str):
            skills.extend(line.strip() for line in value.splitlines() if line.strip())
    return skills


def staff_summary(*, request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    """For the staff patient page: homework and safety plan, if the user may see ``shared``.

    The page itself was opened through the gate (``general``). What the card shows is
    asked of the gate under each label it holds (``shared``, or ``part2`` in a Part 2
    program: titles such as "Relapse-prevention plan" and the plan's author are Part 2
    records too), each audited; what the person may not read is counted and the card says
    why it is hidden, never that there is nothing.
    """
    user: User = request.user  # type: ignore[assignment]
    if not decide(user, patient, category=Category.SHARED, action=Action.VIEW).allowed:
        return None
    from tether.privacy.gate import readable_categories, record_category_for
    from tether.privacy.models import Purpose
    from tether.safetyplan.selectors import latest_version

    # How many of each label: the card shows five, and a year of a patient's homework
    # read whole (answers decrypted) was most of this card's time.
    per_label = dict(
        Assignment.objects.filter(patient=patient)
        .order_by()
        .values_list("record_category")
        .annotate(n=Count("pk"))
    )
    plan = latest_version(patient=patient)
    plan_label = (
        plan.record_category
        if plan is not None
        else record_category_for(patient, Category.SHARED).value
    )
    labels = set(per_label) | {plan_label}
    readable = readable_categories(request, patient, categories=labels, purpose=Purpose.TREATMENT)
    shown = sum(n for label, n in per_label.items() if label in readable)
    hidden = sum(per_label.values()) - shown
    # Hidden whether or not a plan exists: in a Part 2 program even "no plan yet" is a
    # fact of the Part 2 record.
    plan_hidden = plan_label not in readable
    return {
        "safety_plan": None if plan_hidden else plan,
        "safety_plan_hidden": plan_hidden,
        "assignments": list(
            for_patient(patient=patient).filter(record_category__in=sorted(readable))[:5]
        )
        if shown
        else [],
        "hidden_assignments": hidden,
        "completion": window_completion(patient=patient, categories=readable, assigned=shown),
        "can_assign": decide(user, patient, category=Category.SHARED, action=Action.CREATE).allowed,
        "emergency_access": Category.PART2.value not in readable and (plan_hidden or hidden > 0),
    }


def group_sessions_of(*, patient: Patient, days: int = 14) -> list[Appointment]:
    """The patient's group sessions of the last and next ``days`` days (to assign to all)."""
    now = timezone.now()
    return list(
        Appointment.objects.filter(
            kind=Appointment.Kind.GROUP,
            is_cancelled=False,
            attendances__patient=patient,
            starts_at__gte=now - timedelta(days=days),
            starts_at__lte=now + timedelta(days=days),
        )
        .distinct()
        .order_by("starts_at")[:10]
    )
