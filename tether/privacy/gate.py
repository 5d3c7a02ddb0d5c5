"""The gate: every read or write of patient data asks here first.

Two ways in:

- ``patients_visible_to(user, category=..., action=...)`` — a queryset of the
  patients whose records of that category the user may act on. Lists are
  built from it, so a view cannot forget to filter.
- ``access_patient(request, patient_id, category=..., action=..., purpose=...)``
  — one patient, or ``Http404`` when there is no relation (existence never
  leaks). Both outcomes are written to the audit trail.
- ``patient_for_break_glass(request, patient_id)`` — the patient a clinician
  asks emergency access to (same organization only), for the break-glass page.
- ``access_as_proxy(request, patient_id, scope=..., action=...)`` — a family member
  reaching one scope of a patient's account (``Proxy.Scope``); ``Http404`` and a
  denied event without that scope. The scope is checked here, never in a view.
- ``own_record_write(request, category=..., action=...)`` — the signed-in patient's
  own record for a write made in the same transaction (the check-in submit): the
  access event commits together with the change, in one commit.

The rules themselves are the table in ``tether.privacy.policy``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from tether.lib import statements
from tether.lib.statements import AnyOf
from tether.organizations.models import Program, StaffMember
from tether.patients.models import CareTeamMember, Episode, Patient, Proxy
from tether.privacy import audit
from tether.privacy.models import AuditEvent, BreakGlassGrant, Purpose
from tether.privacy.policy import Action, Category, Relation, allowed
from tether.privacy.services import may_break_glass

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.consent.models import ConsentDirective, Recipient

_PROGRAM_RELATION_BY_ROLE = {
    StaffMember.Role.CLINICAL_LEAD: Relation.PROGRAM_LEAD,
    StaffMember.Role.ON_CALL: Relation.PROGRAM_ON_CALL,
    StaffMember.Role.FRONT_DESK: Relation.PROGRAM_FRONT_DESK,
    StaffMember.Role.PROGRAM_ADMIN: Relation.PROGRAM_ADMIN,
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    relation: Relation


def _staff(user: User) -> StaffMember | None:
    if not user.is_authenticated or not user.is_staff_member:
        return None
    try:
        staff = user.staff_member
    except StaffMember.DoesNotExist:
        return None
    return staff if staff.is_active else None


def sees_a_program(user: User) -> bool:
    """Does the user's role open whole programs (a lead, on call, the front desk, an
    admin), beyond their own patients?"""
    staff = _staff(user)
    return staff is not None and StaffMember.Role(staff.role) in _PROGRAM_RELATION_BY_ROLE


@dataclass(frozen=True)
class _Shape:
    """What the SQL of a user's relation conditions depends on besides the values bound
    into it (the user's, the staff member's and the organization's ids, the moment):
    which relations the user can hold at all. Two users of one shape get the same
    statement text (``tether.lib.statements`` keeps it compiled per shape)."""

    patient: bool
    proxy: bool
    clinical: bool
    program_relation: Relation | None


def _shape(user: User) -> tuple[_Shape, StaffMember | None] | None:
    """The user's shape and active staff row; None when they can hold no relation."""
    if not user.is_authenticated or not user.is_active or user.organization_id is None:
        return None
    staff = _staff(user)
    return (
        _Shape(
            patient=user.is_patient,
            proxy=user.is_proxy,
            clinical=staff is not None and staff.is_clinical,
            program_relation=(
                _PROGRAM_RELATION_BY_ROLE.get(StaffMember.Role(staff.role))
                if staff is not None
                else None
            ),
        ),
        staff,
    )


def _relation_conditions(
    user: User,
    *,
    per_row: bool = True,
    now: dt.datetime | None = None,
    among: list[int] | None = None,
) -> dict[Relation, Q]:
    """For each relation the user can have, the condition on Patient rows
    (``_conditions``, for this user's shape and ids)."""
    found = _shape(user)
    if found is None:
        return {}
    shape, staff = found
    return _conditions(
        shape,
        user_id=user.pk,
        staff_id=staff.pk if staff is not None else None,
        now=now or timezone.now(),
        per_row=per_row,
        among=among,
    )


def _conditions(
    shape: _Shape,
    *,
    user_id: int,
    staff_id: int | None,
    now: dt.datetime,
    per_row: bool = True,
    among: list[int] | None = None,
    field: str | None = None,
) -> dict[Relation, Q]:
    """For each relation a user of ``shape`` can have, the condition on Patient rows.
    Built from the shape and the ids alone, so that the same statement serves every user
    of the shape with their own values bound (``_held_rows``, ``own_visible_ids``).

    ``per_row``: each condition asks about the row's own patient (a correlated
    ``EXISTS``), cheapest for one patient or a page of them. Otherwise it is membership
    of a set read once (``pk IN (SELECT patient_id ...)``, which PostgreSQL hashes once per
    query): for the visible-patients set that lists and their summaries join, so no
    query runs a subquery per row for each of thousands of patients (docs/BENCHMARKS.md).
    ``among``: only these patients are asked about (a page's few): each set is read for
    them alone (PostgreSQL hashed a lead's whole program for a page of 60); one array
    parameter, whatever their number.
    ``field``: the conditions are on another table's rows, whose foreign key ``field``
    names the patient (``visible_condition``), instead of on Patient rows."""
    conditions: dict[Relation, Q] = {}
    key = "pk" if field is None else f"{field}_id"  # the column holding the patient's id

    def related(rows: QuerySet[Any], patient_field: str) -> Q:
        if among is not None:
            rows = rows.filter(AnyOf(F(patient_field), among))
        if per_row:
            return Q(Exists(rows.filter(**{patient_field: OuterRef(key)})))
        return Q(**{f"{key}__in": rows.values(patient_field)})

    # A person's own patients (a care team, a break-glass grant, a family member's) are a
    # few ids: on PostgreSQL they are read once per statement into an array
    # (``pk = ANY(ARRAY(SELECT ...))``, an InitPlan), so the patients are then found by
    # their primary key. As a subquery (hashed, or EXISTS per row) PostgreSQL joined the
    # care team to every episode of the organization and scanned every patient: ~3 ms a
    # statement at 10,000 patients against ~0.3 ms (docs/BENCHMARKS.md, sixth pass).
    arrays = connection.vendor == "postgresql"

    def own(rows: QuerySet[Any], patient_field: str) -> Q:
        if arrays:
            return Q(AnyOf(F(key), ArraySubquery(rows.values(patient_field))))
        return related(rows, patient_field)

    if shape.patient:
        conditions[Relation.SELF] = Q(
            **{"user_id" if field is None else f"{field}__user_id": user_id}
        )
    elif shape.proxy:
        conditions[Relation.PROXY] = own(
            Proxy.objects.filter(user_id=user_id, is_active=True), "patient"
        )
    if staff_id is None:
        return conditions
    if shape.clinical:
        care_team = CareTeamMember.objects.filter(staff_member_id=staff_id, ended_on__isnull=True)
        if arrays:
            # The episodes by their keys too (a join would scan every episode).
            conditions[Relation.CARE_TEAM] = own(
                Episode.objects.filter(
                    AnyOf(F("pk"), ArraySubquery(care_team.values("episode_id")))
                ),
                "patient",
            )
        else:
            conditions[Relation.CARE_TEAM] = related(care_team, "episode__patient")
        conditions[Relation.BREAK_GLASS] = own(
            BreakGlassGrant.objects.filter(
                user_id=user_id, started_at__lte=now, expires_at__gt=now
            ),
            "patient",
        )
    if shape.program_relation is not None:
        conditions[shape.program_relation] = related(
            Episode.objects.filter(
                status=Episode.Status.ACTIVE,
                program__in=Program.objects.filter(staff=staff_id),
            ),
            "patient",
        )
    return conditions


# What each proxy scope opens, within the ``general`` category the decision table leaves
# to proxies. Without a scope (the family page itself: whose account, what can and cannot
# be seen) a proxy may only view. Two scopes let a proxy write: messaging (a message in
# the family thread) and family assignments (the family member's own part of one).
_SCOPE_ACTIONS: dict[str, frozenset[Action]] = {
    Proxy.Scope.ATTENDANCE: frozenset({Action.VIEW}),
    Proxy.Scope.APPOINTMENTS: frozenset({Action.VIEW}),
    Proxy.Scope.FAMILY_UPDATES: frozenset({Action.VIEW}),
    Proxy.Scope.FAMILY_ASSIGNMENTS: frozenset({Action.VIEW, Action.CREATE}),
    Proxy.Scope.MESSAGING: frozenset({Action.VIEW, Action.CREATE}),
}


def _proxy_scope_allows(
    user: User,
    category: Category,
    action: Action,
    *,
    patient: Patient | None = None,
    scope: str | None = None,
) -> bool:
    """The proxy's scopes on top of the decision table.

    Only ``general`` records ever reach a proxy (family content from a Part 2 program is
    labelled ``part2`` at capture and so never does). Without a scope: view only. With
    one: the proxy's row for this patient must hold it, and it must open the action.
    """
    if scope is None:
        return _proxy_scope_allows_unscoped(category, action)
    if category != Category.GENERAL:
        return False
    if patient is None or action not in _SCOPE_ACTIONS.get(scope, frozenset()):
        return False
    return scope in proxy_scopes(user, patient)


def _proxy_scope_allows_unscoped(category: Category, action: Action) -> bool:
    """``_proxy_scope_allows`` without a scope: a proxy may only view general records."""
    return category == Category.GENERAL and action == Action.VIEW


def patients_visible_to(
    user: User,
    *,
    category: Category = Category.GENERAL,
    action: Action = Action.VIEW,
    now: dt.datetime | None = None,
) -> QuerySet[Patient]:
    """The patients whose records of ``category`` the user may ``action`` (``now``: the
    moment break-glass grants are judged at, this one by default)."""
    if user.organization_id is None:
        return Patient.objects.none()
    if now is None:
        ids = own_visible_ids(user, category, action)
        if ids is not None:
            return Patient.objects.filter(AnyOf(F("pk"), ids), organization_id=user.organization_id)
    condition, matched = _allowed_conditions(user, category, action, now=now)
    if not matched:
        return Patient.objects.none()
    return Patient.objects.filter(condition, organization_id=user.organization_id)


def _allowed_conditions(
    user: User,
    category: Category,
    action: Action,
    *,
    now: dt.datetime | None = None,
) -> tuple[Q, set[Relation]]:
    """The user's relations that allow ``action`` on ``category``: their conditions on
    Patient rows joined by OR, and which relations they are."""
    condition = Q()
    matched: set[Relation] = set()
    conditions = _relation_conditions(user, per_row=False, now=now)
    for relation, q in conditions.items():
        if not allowed(relation, category, action):
            continue
        if relation == Relation.PROXY and not _proxy_scope_allows(user, category, action):
            continue
        condition |= q
        matched.add(relation)
    return condition, matched


def visible_condition(
    user: User,
    *,
    category: Category = Category.GENERAL,
    action: Action = Action.VIEW,
    field: str = "patient",
) -> Q:
    """A condition on another table's rows: the patient its foreign key ``field`` names is
    one of ``patients_visible_to(user, category=..., action=...)`` — the same rows as
    ``filter(**{f"{field}__in": patients_visible_to(...).values("pk")})``
    (``test_visible_condition.py`` checks it for every persona, category and action).
    ``kept_visible`` says how it is built."""
    kept = kept_visible(user, category=category, action=action, field=field)
    return kept.condition(kept.values) if kept is not None else Q(pk__in=[])


@dataclass(frozen=True)
class KeptVisible:
    """``visible_condition`` for a statement kept compiled (``tether.lib.statements``):
    ``key`` names what the condition's SQL depends on besides its values, ``values`` are
    this user's (to bind), and ``condition(values)`` builds it from any values of the
    same names. Two of them can share a statement: their values' names start with their
    ``name``."""

    key: Hashable
    values: dict[str, Any]
    build: Callable[[Mapping[str, Any]], Q]
    # A program's relations (thousands of patients), not a person's own few ids.
    program_wide: bool = False

    def condition(self, values: Mapping[str, Any]) -> Q:
        return self.build(values)


def kept_visible(
    user: User,
    *,
    category: Category,
    action: Action = Action.VIEW,
    field: str | None = "patient",
    name: str = "visible",
) -> KeptVisible | None:
    """The patients ``user`` may ``action`` records of ``category`` on, as a condition on
    another table's patient column ``field`` whose SQL depends only on the user's shape;
    None when there are none. ``field`` None: on Patient rows themselves, the rows of
    ``patients_visible_to`` (the patient list's count and pages).

    A person's own patients (a caseload, a family member's) are a few ids read once per
    request (``own_visible_ids``): ``patient_id = ANY(ids)``. A program's relations (a
    lead, on call, the front desk, an admin) open thousands: each relation and the
    patient's organization are asked of the rows' own patient column as an EXISTS, which
    PostgreSQL hashes when many rows ask and probes by index when few do. Through the
    patients table it scanned every patient of the organization in each statement (the
    on-call clinician's urgent requests: 2.8 → 0.1 ms at 10,000 patients;
    docs/BENCHMARKS.md, seventh pass)."""
    found = _shape(user)
    if found is None:
        return None
    shape, staff = found
    matched = _allowing(shape, staff is not None, category, action)
    if not matched:
        return None
    column = "pk" if field is None else f"{field}_id"
    if not set(matched) & _PROGRAM_RELATIONS:
        ids = own_visible_ids(user, category, action)
        if ids is None:
            ids = _own_ids(user, shape, staff, matched)

        def own(values: Mapping[str, Any]) -> Q:
            return Q(AnyOf(F(column), values[name]))

        return KeptVisible(("gate.own", field, name), {name: ids}, own)

    # Each relation an EXISTS on the rows' own patient column: PostgreSQL plans it both
    # ways, hashing the set when many rows ask (a lead's flags) and probing the index row
    # by row when few do (the urgent requests).
    def program(values: Mapping[str, Any]) -> Q:
        conditions = _conditions(
            shape,
            user_id=values[f"{name}_user"],
            staff_id=values.get(f"{name}_staff"),
            now=values[f"{name}_now"],
            field=field,
        )
        condition = Q()
        for relation in matched:
            condition |= conditions[relation]
        organization = values[f"{name}_organization"]
        if field is None:
            return condition & Q(organization_id=organization)
        # The patient's organization, asked the same way (a join hashed every patient).
        in_organization = Patient.objects.filter(pk=OuterRef(column), organization_id=organization)
        return condition & Q(Exists(in_organization))

    values = {f"{name}_{key}": value for key, value in _values(user, staff).items()}
    return KeptVisible(
        ("gate.program", shape, staff is not None, matched, field, name),
        values,
        program,
        program_wide=True,
    )


def visible_among(
    user: User, patient_ids: Iterable[int], *, category: Category, action: Action = Action.VIEW
) -> set[int]:
    """Which of ``patient_ids`` (a page's few) the user may ``action`` records of
    ``category`` on: the same answer as ``patients_visible_to``, from the relations held
    to those patients (``held_relations``: one query per request, shared with the list's
    audit rows and every other category asked about). Filtering the gate's set by the
    page's ids in SQL hashed a lead's whole program each time, or put two arrays on one
    key, which made PostgreSQL 15 scan every patient."""
    proxy_may = user.is_proxy and _proxy_scope_allows(user, category, action)
    return {
        pk
        for pk, relations in held_relations(user, patient_ids).items()
        if any(
            allowed(relation, category, action) and (relation != Relation.PROXY or proxy_may)
            for relation in relations
        )
    }


# A person's own patients (a caseload, a family member's, their own record) are few: inside
# ``decisions_once`` (one GET or HEAD request) their ids are read once per category and
# action and every later use of the set is ``pk = ANY(ids)`` — an index read of a few
# rows — instead of the gate's conditions rebuilt inside each of the page's statements (a
# scan of the organization's patients each time: about 2 ms at 10,000 patients, four to
# eight times on a list page). A program's relations (a lead, on call, the front desk, an
# admin) open thousands of patients: their set stays a subquery, hashed once per statement.
_PROGRAM_RELATIONS = frozenset(_PROGRAM_RELATION_BY_ROLE.values())
# (user, category, action) and (user, the relations they open) -> the ids.
_visible_once: ContextVar[dict[tuple[Any, ...], list[int]] | None] = ContextVar(
    "gate_visible_ids", default=None
)


def own_visible_ids(
    user: User, category: Category, action: Action = Action.VIEW
) -> list[int] | None:
    """Inside ``decisions_once`` (a GET or HEAD request), the ids of a person's own
    visible patients (a clinician's caseload), read once per request (a statement
    compiled once per process and shape, the user's values bound): the set
    ``patients_visible_to`` answers with. None outside it, for a program's relations
    (thousands of patients: a subquery, not ids), and when the user holds no relation
    that allows the action (``patients_visible_to`` then answers as before)."""
    memo = _visible_once.get()
    if memo is None or user.pk is None:
        return None
    key = (user.pk, str(category), str(action))
    if key in memo:
        return memo[key]
    found = _shape(user)
    if found is None:
        return None
    shape, staff = found
    matched = _allowing(shape, staff is not None, category, action)
    if not matched or set(matched) & _PROGRAM_RELATIONS:
        return None
    # Categories that open the same relations open the same patients: a clinician's
    # caseload is read once for the self-report, Part 2, shared and general records.
    opened_by = (user.pk, matched)
    if opened_by not in memo:
        memo[opened_by] = _own_ids(user, shape, staff, matched)
    memo[key] = memo[opened_by]
    return memo[key]


def _own_ids(
    user: User, shape: _Shape, staff: StaffMember | None, matched: tuple[Relation, ...]
) -> list[int]:
    """The ids of the patients the user's ``matched`` relations (their own, not a
    program's) open: a statement compiled once per process and shape, the values bound."""

    def make(values: Any) -> QuerySet[Any]:
        conditions = _bound_conditions(shape, values, per_row=False)
        condition = Q()
        for relation in matched:
            condition |= conditions[relation]
        return Patient.objects.filter(
            condition, organization_id=values["organization"]
        ).values_list("pk")

    rows = statements.rows(
        ("gate.visible_ids", shape, staff is not None, matched), make, _values(user, staff)
    )
    return sorted(row[0] for row in rows)


@lru_cache(maxsize=256)
def _allowing(
    shape: _Shape, has_staff: bool, category: Category, action: Action
) -> tuple[Relation, ...]:
    """Of the relations a user of ``shape`` can hold, those that allow ``action`` on
    ``category`` (``_allowed_conditions``' choice: a proxy's only as its scopes say)."""
    return tuple(
        relation
        for relation in _relations_of(shape, has_staff)
        if allowed(relation, category, action)
        and (relation != Relation.PROXY or _proxy_scope_allows_unscoped(category, action))
    )


# Decided once per request: a page asks the gate about the same patient several times
# (its own category, then the categories of the sections it shows), and each answer is
# the same set of relations. Inside ``decisions_once`` (the middleware opens it around
# every GET and HEAD request) the relations of a (user, patient) pair are read from the
# database once and remembered until the request ends. A request that may change them
# (a POST: break-glass, care team, proxy scopes, discharge) never remembers them.
_remembered: ContextVar[dict[tuple[int, int], tuple[Relation, ...]] | None] = ContextVar(
    "gate_relations", default=None
)


@contextmanager
def decisions_once() -> Iterator[None]:
    """Remember each (user, patient) pair's relations, a person's own visible patients
    (``own_visible_ids``) and each patient's Part 2 programs (``_part2_programs``) until the
    block ends (one request that changes nothing)."""
    token = _remembered.set({})
    visible_token = _visible_once.set({})
    part2_token = _part2_programs_once.set({})
    try:
        yield
    finally:
        _part2_programs_once.reset(part2_token)
        _visible_once.reset(visible_token)
        _remembered.reset(token)


def _remember(user: User, patient_id: int, relations: list[Relation]) -> None:
    memo = _remembered.get()
    if memo is not None and user.pk is not None:
        memo[(user.pk, patient_id)] = tuple(relations)


def _relations_in_row(row: Any, relations: Iterable[Relation]) -> list[Relation]:
    """The relations flagged on a row annotated with ``_conditions`` (``rel_<relation>``),
    strongest first."""
    held = set(relations)
    return [rel for rel in Relation if rel in held and getattr(row, f"rel_{rel.value}", False)]


def _patient_with_relations(user: User, patient_id: int) -> tuple[Patient, list[Relation]]:
    """The user's organization's patient ``patient_id`` and every relation the user holds
    to them, strongest first, in one statement compiled once per process and shape (as
    ``_held_rows``). Raises ``Patient.DoesNotExist``."""
    found = _shape(user)
    shape, staff = found if found is not None else (None, None)

    def make(values: Any) -> QuerySet[Patient]:
        patients = Patient.objects.filter(
            pk=values["patient"], organization_id=values["organization"]
        )
        if shape is None:
            return patients
        conditions = _bound_conditions(shape, values)
        return patients.annotate(**{f"rel_{r.value}": q for r, q in conditions.items()})

    rows = statements.instances(
        ("gate.patient_with_relations", shape, staff is not None),
        Patient,
        make,
        {
            **(
                _values(user, staff)
                if shape is not None
                else {"organization": user.organization_id}
            ),
            "patient": patient_id,
        },
    )
    if not rows:
        raise Patient.DoesNotExist
    patient = rows[0]
    columns = _relations_of(shape, staff is not None) if shape is not None else ()
    return patient, _relations_in_row(patient, columns)


def relations_to(user: User, patient: Patient) -> list[Relation]:
    """Every relation the user has to this patient, strongest first."""
    if user.organization_id != patient.organization_id:
        return []
    return held_relations(user, [patient.pk]).get(patient.pk, [])


def list_relations(
    user: User, patient_ids: Iterable[int], *, category: Category, action: Action = Action.VIEW
) -> dict[int, Relation]:
    """For a page that lists patients: each listed patient's strongest relation to the
    user that allows ``action`` on ``category`` (one query, whatever the list's length).
    Patients with none are left out. For the audit rows of a list (``list_audit``)."""
    return strongest_allowed(held_relations(user, patient_ids), category=category, action=action)


def held_relations(user: User, patient_ids: Iterable[int]) -> dict[int, list[Relation]]:
    """Every relation the user holds to each of ``patient_ids``, strongest first (one
    query for those not known yet). Inside ``decisions_once`` they are remembered for the
    request, so a page that lists its rows under two categories (the board's self-report
    and Part 2 rows) or then decides on one of them asks the database once."""
    ids = sorted(set(patient_ids))
    if not ids or user.organization_id is None:
        return {}
    held: dict[int, list[Relation]] = {}
    unknown = []
    # (The memo and the user's id read once: a page asks about its 60 rows three times.)
    memo, user_id = _remembered.get(), user.pk
    for pk in ids:
        recalled = memo.get((user_id, pk)) if memo is not None and user_id is not None else None
        if recalled is None:
            unknown.append(pk)
        else:
            held[pk] = list(recalled)
    if unknown:
        found = _shape(user)
        if found is not None and _relations_of(found[0], found[1] is not None):
            shape, staff = found
            for pk, relations in _held_rows(user, shape, staff, unknown):
                held[pk] = relations
        for pk in unknown:
            _remember(user, pk, held.setdefault(pk, []))
    return held


def _values(user: User, staff: StaffMember | None) -> dict[str, Any]:
    """The values a user's relation conditions bind (``_conditions``)."""
    values: dict[str, Any] = {
        "user": user.pk,
        "organization": user.organization_id,
        "now": timezone.now(),
    }
    if staff is not None:
        values["staff"] = staff.pk
    return values


def _bound_conditions(
    shape: _Shape,
    values: Mapping[str, Any],
    *,
    per_row: bool = True,
    among: list[int] | None = None,
) -> dict[Relation, Q]:
    """``_conditions`` from the values a kept statement binds (``_values``)."""
    return _conditions(
        shape,
        user_id=values["user"],
        staff_id=values.get("staff"),
        now=values["now"],
        per_row=per_row,
        among=among,
    )


def _held_rows(
    user: User, shape: _Shape, staff: StaffMember | None, among: list[int]
) -> list[tuple[int, list[Relation]]]:
    """(patient id, the relations held to them, strongest first) for those of ``among``
    in the user's organization. One statement compiled once per process and shape
    (``tether.lib.statements``), the user's values bound: building the conditions with
    the ORM on every request cost ~3 ms of a list page, ten times the query."""

    def make(values: Any) -> QuerySet[Any]:
        conditions = _bound_conditions(shape, values, per_row=False, among=values["among"])
        return (
            Patient.objects.filter(
                AnyOf(F("pk"), values["among"]), organization_id=values["organization"]
            )
            .annotate(**{f"rel_{r.value}": q for r, q in conditions.items()})
            .values_list("pk", *[f"rel_{r.value}" for r in conditions])
        )

    rows = statements.rows(
        ("gate.held_relations", shape, staff is not None),
        make,
        {**_values(user, staff), "among": among},
    )
    columns = _relations_of(shape, staff is not None)  # the statement's columns, in order
    strongest_first = [r for r in Relation if r in columns]
    return [(row[0], [r for r in strongest_first if row[1 + columns.index(r)]]) for row in rows]


@lru_cache(maxsize=64)
def _relations_of(shape: _Shape, has_staff: bool) -> tuple[Relation, ...]:
    """The relations a user of ``shape`` can hold, in the order ``_conditions`` gives
    them (the columns of ``_held_rows``' statement): read off ``_conditions`` itself."""
    return tuple(
        _conditions(
            shape,
            user_id=0,
            staff_id=0 if has_staff else None,
            now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
            per_row=False,
            among=[],
        )
    )


def strongest_allowed(
    held: dict[int, list[Relation]], *, category: Category, action: Action = Action.VIEW
) -> dict[int, Relation]:
    """Of ``held_relations``: each patient's strongest relation that allows ``action`` on
    ``category`` (a proxy's never: a list is a staff page). Patients with none are left
    out."""
    found: dict[int, Relation] = {}
    for pk, relations in held.items():
        for relation in relations:  # strongest first
            if relation != Relation.PROXY and allowed(relation, category, action):
                found[pk] = relation
                break
    return found


def decide(
    user: User,
    patient: Patient,
    *,
    category: Category,
    action: Action,
    scope: str | None = None,
) -> Decision:
    """``scope`` (a ``Proxy.Scope``) only matters to a proxy: what part of the account."""
    return _decision(user, patient, relations_to(user, patient), category, action, scope)


def _decision(
    user: User,
    patient: Patient,
    relations: list[Relation],
    category: Category,
    action: Action,
    scope: str | None,
) -> Decision:
    for relation in relations:
        if not allowed(relation, category, action):
            continue
        if relation == Relation.PROXY and not _proxy_scope_allows(
            user, category, action, patient=patient, scope=scope
        ):
            continue
        return Decision(True, relation)
    return Decision(False, Relation.NONE)


def access_patient(
    request: HttpRequest,
    patient_id: int | str,
    *,
    category: Category,
    action: Action,
    purpose: Purpose,
    scope: str | None = None,
) -> Patient:
    """Fetch one patient for this request, or raise Http404. Audited either way."""
    user: User = request.user  # type: ignore[assignment]
    if not user.is_authenticated or user.organization_id is None:
        audit.record_denied(
            request, patient=None, category=category, action=action, purpose=purpose
        )
        raise Http404
    # One query: the patient and every relation the user has to them.
    try:
        patient, relations = _patient_with_relations(user, int(patient_id))
    except (Patient.DoesNotExist, ValueError, TypeError):
        audit.record_denied(
            request, patient=None, category=category, action=action, purpose=purpose
        )
        raise Http404 from None
    _remember(user, patient.pk, relations)
    decision = _decision(user, patient, relations, category, action, scope)
    if not decision.allowed:
        audit.record_denied(
            request, patient=patient, category=category, action=action, purpose=purpose
        )
        raise Http404
    if decision.relation == Relation.BREAK_GLASS:
        # Whatever the page says it is for, access under a break-glass grant is
        # emergency treatment (42 CFR 2.51), and the trail says so.
        purpose = Purpose.EMERGENCY
    audit.record_access(
        request,
        patient=patient,
        category=category,
        action=action,
        purpose=purpose,
        relation=decision.relation,
    )
    return patient


def peek_patient(user: User, patient_id: int | str) -> Patient | None:
    """The patient with this id in the user's organization, deciding nothing: only to
    work out the label of a record before asking the gate (``access_patient``) for it.
    Never show anything of it before the gate has answered."""
    if not user.is_authenticated or user.organization_id is None:
        return None
    try:
        return Patient.objects.filter(
            pk=int(patient_id), organization_id=user.organization_id
        ).first()
    except (ValueError, TypeError):
        return None


def readable_categories(
    request: HttpRequest,
    patient: Patient,
    *,
    categories: Iterable[str],
    purpose: Purpose,
) -> frozenset[str]:
    """Of the record categories a page would show for this patient (labels set at
    capture), the ones the signed-in person may view: each asked of the decision table
    and audited under its own category, allowed or denied. A page shows the readable
    ones and says what it hides and why (never an empty list as if there were nothing)."""
    user: User = request.user  # type: ignore[assignment]
    readable: set[str] = set()
    for value in sorted(set(categories)):
        category = Category(value)
        decision = decide(user, patient, category=category, action=Action.VIEW)
        if not decision.allowed:
            audit.record_denied(
                request, patient=patient, category=category, action=Action.VIEW, purpose=purpose
            )
            continue
        audit.record_access(
            request,
            patient=patient,
            category=category,
            action=Action.VIEW,
            purpose=Purpose.EMERGENCY if decision.relation == Relation.BREAK_GLASS else purpose,
            relation=decision.relation,
        )
        readable.add(category.value)
    return frozenset(readable)


def patient_for_break_glass(request: HttpRequest, patient_id: int | str) -> Patient:
    """The patient a clinician asks emergency access to, or Http404.

    Break-glass is for patients of the clinician's own organization that they
    have no relation to yet, so this does not ask the decision table; it only
    refuses anyone who may not break the glass at all and every patient outside
    the organization. A nonexistent id and another organization's id get the same
    404 and the same audit row (no patient), so existence never leaks.
    """
    user: User = request.user  # type: ignore[assignment]
    patient: Patient | None = None
    if user.is_authenticated and user.organization_id is not None:
        try:
            patient = Patient.objects.get(pk=int(patient_id), organization_id=user.organization_id)
        except (Patient.DoesNotExist, ValueError, TypeError):
            patient = None
    if patient is None or not may_break_glass(user):
        audit.record(
            request=request,
            actor=user,
            patient=patient,
            action=Action.CREATE,
            category=Category.GENERAL,
            purpose=Purpose.EMERGENCY,
            outcome=AuditEvent.Outcome.DENIED,
            acting_as=Relation.BREAK_GLASS.value,
        )
        raise Http404
    return patient


def access_as_proxy(
    request: HttpRequest,
    patient_id: int | str,
    *,
    scope: str,
    action: Action = Action.VIEW,
    category: Category | None = None,
) -> Patient:
    """A family member reaching one scope of a patient's account, or ``Http404``.

    ``category`` is the label of the record reached (set at capture); by default the
    label family content of this patient gets now (``family_category_for``). Anything but
    ``general`` is refused to a proxy by the decision table. Anyone who is not a proxy is
    refused too, so a patient or staff member cannot use family pages. Audited either
    way, purpose "family member's request".
    """
    user = request.user
    if not user.is_authenticated or not getattr(user, "is_proxy", False):
        audit.record_denied(
            request,
            patient=None,
            category=category or Category.GENERAL,
            action=action,
            purpose=Purpose.FAMILY,
        )
        raise Http404
    if category is None:
        try:
            subject = Patient.objects.get(
                pk=int(patient_id), organization_id=user.organization_id or 0
            )
        except (Patient.DoesNotExist, ValueError, TypeError):
            subject = None
        category = family_category_for(subject) if subject is not None else Category.GENERAL
    return access_patient(
        request, patient_id, category=category, action=action, purpose=Purpose.FAMILY, scope=scope
    )


def proxy_scopes_open(
    user: User, patient: Patient, *, category: Category, action: Action = Action.VIEW
) -> frozenset[str]:
    """The scopes through which this proxy may ``action`` records of ``category`` of
    this patient now: the gate's decision for each scope at once, for a page that shows
    several parts of the account together. Not audited here: the page records one
    look through ``access_patient`` (so "who looked at my record" counts one visit as
    one look); a page reaching one part on its own uses ``access_as_proxy``."""
    if Relation.PROXY not in relations_to(user, patient):
        return frozenset()
    if not allowed(Relation.PROXY, category, action) or category != Category.GENERAL:
        return frozenset()
    return frozenset(
        scope
        for scope in proxy_scopes(user, patient)
        if action in _SCOPE_ACTIONS.get(scope, frozenset())
    )


def _own_patient(user: Any) -> Patient | None:
    """The patient row whose user is ``user``: the one read with the signed-in user at
    the start of this request (``UsernameOrEmailBackend.get_user``, no query of its
    own), or read now when the user object came another way."""
    from tether.accounts.models import User

    if User.patient.is_cached(user):
        try:
            return user.patient  # type: ignore[no-any-return]
        except Patient.DoesNotExist:
            return None
    return Patient.objects.filter(user_id=user.pk).first()


def access_own_record(request: HttpRequest, *, category: Category, action: Action) -> Patient:
    """The signed-in patient's own record, through the gate (purpose: their own request).

    Anyone who is not a patient (staff, family members, a patient user without a
    patient row) gets ``Http404``, like every other refusal.
    """
    user = request.user
    if not user.is_authenticated or not getattr(user, "is_patient", False):
        raise Http404
    patient = _own_patient(user)
    if patient is None:
        raise Http404
    _decide_own(request, user, patient, category=category, action=action)
    # Later decisions on this record in the same request cost no query (``decide``).
    _remember(user, patient.pk, [Relation.SELF])
    audit.record_access(
        request,
        patient=patient,
        category=category,
        action=action,
        purpose=Purpose.PATIENT_REQUEST,
        relation=Relation.SELF,
    )
    return patient


def _decide_own(
    request: HttpRequest, user: Any, patient: Patient, *, category: Category, action: Action
) -> None:
    """The gate's decision on a patient's own record, on the patient row read with the
    signed-in user (no query): relation ``self`` and the policy table, as ``access_patient``
    decides it. A refusal is recorded at once and raises ``Http404``."""
    if (
        not user.is_active
        or user.organization_id is None
        or user.organization_id != patient.organization_id
        or not allowed(Relation.SELF, category, action)
    ):
        # The same refusal access_patient records (with no patient for another
        # organization, as its lookup there finds none).
        same_org = (
            user.organization_id is not None and user.organization_id == patient.organization_id
        )
        audit.record_denied(
            request,
            patient=patient if same_org else None,
            category=category,
            action=action,
            purpose=Purpose.PATIENT_REQUEST,
        )
        raise Http404


@contextmanager
def own_record_write(
    request: HttpRequest, *, category: Category, action: Action
) -> Iterator[Patient]:
    """``access_own_record`` for a write done inside the block: one transaction, one
    commit for this access's audit event, the change and the service's own events.

    The decision is the same as ``access_own_record``'s (the patient row whose user is
    the signed-in patient, relation ``self``, the policy table), in one query. A refusal
    is recorded at once, on its own, and raises ``Http404`` before the block runs.
    Inside, one transaction is open and every allowed event recorded in it is written
    at its end in two inserts (``audit.held``). If the block raises, the transaction
    rolls back and this access's event is then recorded on its own before the
    exception goes on: an allowed access is never left out of the trail.
    """
    user = request.user
    if not user.is_authenticated or not getattr(user, "is_patient", False):
        raise Http404
    patient = _own_patient(user)
    if patient is None:
        raise Http404
    purpose = Purpose.PATIENT_REQUEST
    _decide_own(request, user, patient, category=category, action=action)
    try:
        with transaction.atomic(), audit.held():
            audit.record_access(
                request,
                patient=patient,
                category=category,
                action=action,
                purpose=purpose,
                relation=Relation.SELF,
            )
            yield patient
    except BaseException:
        audit.record_access(
            request,
            patient=patient,
            category=category,
            action=action,
            purpose=purpose,
            relation=Relation.SELF,
        )
        raise


# --- Consent (42 CFR Part 2) ------------------------------------------------------------

# Categories that hold clinical content: in a Part 2 program they are Part 2 records.
_CLINICAL_CATEGORIES = frozenset(
    {Category.MENTAL_HEALTH, Category.SELF_REPORT, Category.SHARED, Category.PART2}
)
# Recipient kinds a single "treatment, payment and operations" class consent covers.
_TPO_KINDS = frozenset({"primary_care", "psychiatrist", "therapist", "health_plan"})


def record_category_for(subject: Patient | Episode, base_category: Category) -> Category:
    """The category to label a record with at capture.

    In a program that treats substance use (a 42 CFR Part 2 program) every clinical
    record is Part 2 by default; general records (appointments) and psychotherapy notes
    keep their own category. ``subject`` is the episode the record belongs to, or the
    patient (then their active episodes decide).
    """
    if base_category not in _CLINICAL_CATEGORIES:
        return base_category
    if isinstance(subject, Episode):
        part2 = subject.program.treats_substance_use
    else:
        part2 = _part2_programs(subject.pk, active_only=True)
    return Category.PART2 if part2 else base_category


def disclosure_category_for(patient: Patient, base_category: Category) -> Category:
    """The label of what is sent outside the program about ``patient`` (a care-coordination
    update written from the record): ``part2`` when the patient is, or was, treated in a
    program that treats substance use, since anything that program sends about them says
    they are in substance-use treatment (our choice, the stricter reading: the project's
    reference does not state it); else ``record_category_for``. Derived from the
    patient's programs, never from a choice the sender makes. Psychotherapy notes keep
    their own label (and never leave: ``may_disclose``).
    """
    if base_category == Category.PSYCHOTHERAPY_NOTE:
        return base_category
    if _part2_programs(patient.pk, active_only=False):
        return Category.PART2
    return record_category_for(patient, base_category)


# A patient's Part 2 programs, asked by each section of a page (the patient overview's
# consent card asked eight times for its packet's sections, twice more for the labels):
# inside ``decisions_once`` (a GET or HEAD request, which changes no episode) both
# answers — an active episode in a Part 2 program, any episode in one — are read in one
# statement and remembered until the request ends. Elsewhere (a write labelling what it
# captures) each is read when asked, inside the writer's transaction.
_part2_programs_once: ContextVar[dict[int, tuple[bool, bool]] | None] = ContextVar(
    "gate_part2_programs", default=None
)


def _part2_programs(patient_id: int, *, active_only: bool) -> bool:
    """Whether the patient has an episode (an active one, with ``active_only``) in a
    program that treats substance use."""
    in_part2 = Episode.objects.filter(patient_id=patient_id, program__treats_substance_use=True)
    memo = _part2_programs_once.get()
    if memo is None:
        if active_only:
            in_part2 = in_part2.filter(status=Episode.Status.ACTIVE)
        return in_part2.exists()
    if patient_id not in memo:
        counts = in_part2.aggregate(
            ever=Count("pk"), active=Count("pk", filter=Q(status=Episode.Status.ACTIVE))
        )
        memo[patient_id] = (counts["active"] > 0, counts["ever"] > 0)
    active, ever = memo[patient_id]
    return active if active_only else ever


def family_category_for(subject: Patient | Episode) -> Category:
    """The label of something written for a patient's family (an update, a family
    assignment, a message in the family thread): ``general``, or ``part2`` when it comes
    from a program that treats substance use. Proxies are never shown ``part2``: this
    program does not release Part 2 content to families (no family consent yet)."""
    if record_category_for(subject, Category.SHARED) == Category.PART2:
        return Category.PART2
    return Category.GENERAL


def consent_for(
    patient: Patient, recipient: Recipient | None, category: Category
) -> ConsentDirective | None:
    """The consent in force now that lets ``recipient`` receive ``category``, or None.

    A consent matches when it names this recipient (or a TPO class that covers the
    recipient's kind), covers exactly this category, has not expired and has not been
    revoked. Looked up fresh on every call: a revocation is effective at once.
    """
    from tether.consent import models as consent_models

    if recipient is None or recipient.organization_id != patient.organization_id:
        return None
    if not recipient.is_active:
        return None
    now = timezone.now()
    names = Q(recipient=recipient)
    if recipient.kind in _TPO_KINDS:
        names |= Q(recipient__isnull=True) & ~Q(recipient_class="")
    return (
        consent_models.ConsentDirective.objects.filter(
            names,
            patient=patient,
            organization_id=patient.organization_id,
            category=category.value,
            revoked_at__isnull=True,
        )
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=timezone.localdate(now)))
        .order_by("-signed_at")
        .first()
    )


def may_disclose(
    patient: Patient, recipient: Recipient | None, category: Category, action: Action
) -> bool:
    """May ``category`` records of ``patient`` go to ``recipient`` (outside the program)?

    Recipients never sign in: the only action is ``disclose`` (a pushed update or file),
    and only with a matching consent in force. Psychotherapy notes never leave this way.
    Who may send is the decision table's ``DISCLOSE`` (the care team only): a view asks
    ``access_patient(..., action=Action.DISCLOSE)`` first.
    """
    if action != Action.DISCLOSE or category == Category.PSYCHOTHERAPY_NOTE:
        return False
    return consent_for(patient, recipient, category) is not None


def proxy_scopes(user: User, patient: Patient) -> frozenset[str]:
    """What this proxy may see of this patient (``Proxy.Scope`` values); empty if none.

    Check-ins, clinical notes and Part 2 records are never among them: those categories
    are closed to proxies in the decision table whatever the scopes say.
    """
    if not user.is_authenticated or not user.is_proxy or user.organization_id is None:
        return frozenset()
    proxy = Proxy.objects.filter(
        patient=patient, user_id=user.pk, is_active=True, organization_id=user.organization_id
    ).first()
    return proxy.scopes if proxy is not None else frozenset()


# --- Systems outside the program (the FHIR API's registered clients) --------------------

# What a registered system (an EHR, a payer: a consent ``Recipient``) may receive without
# a consent: HIPAA lets a covered entity disclose for treatment, payment and operations
# without the patient's authorization, so general, mental-health and self-report records
# go to the client its program registered. Part 2 records go only under a §2.31 consent
# in force naming that recipient (``consented_patient_ids``); psychotherapy notes never.
SYSTEM_RELEASE_WITHOUT_CONSENT = frozenset(
    {Category.GENERAL, Category.MENTAL_HEALTH, Category.SELF_REPORT, Category.SHARED}
)


def part2_patient_ids() -> QuerySet[Episode, int]:
    """Patients who are, or were, in a program that treats substance use: everything
    sent outside about them is Part 2 (``disclosure_category_for``), even their name."""
    return Episode.objects.filter(program__treats_substance_use=True).values_list(
        "patient_id", flat=True
    )


def consented_patient_ids(recipient: Recipient, category: Category) -> QuerySet[Any, int]:
    """The patients with a consent in force now that lets ``recipient`` receive
    ``category`` (the set form of ``consent_for``, for a search or an export)."""
    from tether.consent import models as consent_models

    if not recipient.is_active or category == Category.PSYCHOTHERAPY_NOTE:
        return consent_models.ConsentDirective.objects.none().values_list("patient_id", flat=True)
    names = Q(recipient=recipient)
    if recipient.kind in _TPO_KINDS:
        names |= Q(recipient__isnull=True) & ~Q(recipient_class="")
    return (
        consent_models.ConsentDirective.objects.filter(
            names,
            organization_id=recipient.organization_id,
            category=category.value,
            revoked_at__isnull=True,
        )
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=timezone.localdate()))
        .values_list("patient_id", flat=True)
    )


def system_release_condition(recipient: Recipient, *, patient_field: str = "patient") -> Q:
    """The condition on rows (of a model with ``patient_field``) that a registered system
    may receive: not a Part 2 patient's, or covered by a Part 2 consent to ``recipient``."""
    return ~Q(**{f"{patient_field}__in": part2_patient_ids()}) | Q(
        **{f"{patient_field}__in": consented_patient_ids(recipient, Category.PART2)}
    )
