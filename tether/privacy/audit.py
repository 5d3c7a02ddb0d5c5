"""The audit trail: every read, write and denied attempt on patient data.

``record(...)`` writes one ``AuditEvent`` (ids and codes only) with its entry hash,
and queues it for the sealer (``tether.privacy.sealer``), which links it into its
organization's hash chain a moment later. Recording holds no lock that another
request waits on (docs/ARCHITECTURE.md, "Locks"). Two rules about transactions:

- An **allowed** event joins the caller's transaction: a service that changes data
  and records its event in one ``transaction.atomic()`` block either commits both or
  neither, so a rolled-back change leaves no event.
- A **denied** event is committed on its own, at once, even though the request then
  fails with a 404. It is written in a *durable* atomic block, so calling the gate
  inside another atomic block (where a rollback would erase the denial) raises
  ``RuntimeError`` instead of losing the record. ``ATOMIC_REQUESTS`` stays off; views
  ask the gate first and then call services, which open their own transactions.

Outside a request (services called from a task, a command or a test) the actor and
the client address come from the request-scoped context that
``tether.privacy.middleware.AuditContextMiddleware`` sets, or that ``audit_context()``
sets explicitly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from tether.privacy import chain
from tether.privacy.models import SYSTEM_CHAIN, AuditEvent, AuditPending, Purpose
from tether.privacy.policy import Action, Category, Relation

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.patients.models import Patient


# --- Request-scoped context ---------------------------------------------------------


@dataclass(frozen=True)
class AuditContext:
    """Who is acting and from where, for events recorded without a request at hand."""

    user: Any  # a User, AnonymousUser or the request's lazy user; None for the system
    client_address: str | None


_context: ContextVar[AuditContext | None] = ContextVar("tether_audit_context", default=None)
# Allowed events recorded inside ``held()``: written together when the block ends.
_held: ContextVar[list[AuditEvent] | None] = ContextVar("tether_audit_held", default=None)


@contextmanager
def audit_context(*, user: Any = None, client_address: str | None = None) -> Iterator[None]:
    """Set the actor and client address for events recorded inside this block."""
    token = _context.set(AuditContext(user, chain.normalize_address(client_address)))
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> AuditContext | None:
    return _context.get()


# A page view's own reads (its ``access_patient`` and the sections it shows) are allowed
# events recorded outside any transaction. Inside ``written_together`` (the middleware
# opens it around every GET and HEAD request) they are kept and written in two inserts
# when the block ends, whatever the number of them, and also when it ends with an
# exception. An event recorded inside a transaction still joins it at once (a change and
# its event commit together), and a denial is still committed at once.
_together: ContextVar[list[AuditEvent] | None] = ContextVar("tether_audit_together", default=None)


def _in_transaction() -> bool:
    """Inside a transaction a caller opened (not the one a test case wraps around
    everything: Django marks those, as it does for its durable check)."""
    connection = transaction.get_connection()
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


@contextmanager
def written_together() -> Iterator[None]:
    """Write the allowed events recorded in autocommit inside this block together, at its
    end (``append_many``: two inserts)."""
    kept: list[AuditEvent] = []
    token = _together.set(kept)
    try:
        yield
    finally:
        _together.reset(token)
        if kept:
            if transaction.get_connection().vendor == "postgresql" and not _in_transaction():
                _append_in_one_statement(kept)
            else:
                append_many(kept)


def _append_in_one_statement(events: list[AuditEvent]) -> None:
    """PostgreSQL, in autocommit: the events and their places in the sealer's queue in one
    statement (a data-modifying ``WITH``), which is atomic by itself: the rows of
    ``append_many``'s two inserts in a transaction, without its BEGIN and COMMIT round
    trips (a page view's last four statements become one).

    A column whose value differs between the events goes as one array (``unnest``), not
    one parameter per value (a list page's 60 events were 960 parameters, quoted one by
    one into a new statement text every time); a column the same for all of them (the
    actor, the action, the page's object type, the moment: most of them on a list page)
    goes once, as one value. The events are written at one moment, the statement's."""
    if any(event.outcome != AuditEvent.Outcome.ALLOWED for event in events):
        raise ValueError("written together: allowed events only")
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    moment = timezone.now()
    for event in events:
        _prepare(event, at=moment)
    same: list[tuple[str, str, Any]] = []  # (column, its placeholder, the value)
    differing: list[tuple[str, str, list[Any]]] = []
    for field in _written_fields():
        # (Plain values: ids, text, the moment; the address as text, cast to inet.)
        values = [getattr(event, field.attname) for event in events]
        first = values[0]
        if all(value == first for value in values[1:]):
            same.append((quote(field.column), f"%s::{field.db_type(connection)}", first))
        else:
            differing.append((quote(field.column), f"%s::{field.db_type(connection)}[]", values))
    pending = AuditPending._meta
    columns = [column for column, _, _ in same + differing]
    selected = [placeholder for _, placeholder, _ in same]
    if differing:
        selected.append("u.*")
    rows = f"SELECT {', '.join(selected)}"
    if differing:
        rows += f" FROM unnest({', '.join(placeholder for _, placeholder, _ in differing)}) AS u"
    # Fixed text (the models' own table and column names and types); every value is a
    # parameter.
    sql = (
        f"WITH written AS (INSERT INTO {quote(AuditEvent._meta.db_table)} "  # noqa: S608
        f"({', '.join(columns)}) {rows} "
        f"RETURNING {quote(AuditEvent._meta.pk.column)}, {quote('chain_key')}) "
        f"INSERT INTO {quote(pending.db_table)} "
        f"({quote(pending.get_field('event').column)}, {quote('chain_key')}) "
        f"SELECT {quote(AuditEvent._meta.pk.column)}, {quote('chain_key')} FROM written"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for *_, value in same + differing])


def _written_fields() -> list[models.Field[Any, Any]]:
    """The audit event's columns an insert writes (all but its id)."""
    return [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]


def client_address(request: HttpRequest) -> str | None:
    """The client's address, the same one sign-in limits count by: REMOTE_ADDR, or behind
    ``PROXY_COUNT`` trusted proxies (``PROXY_TRUSTED_IPS``) the address the outermost of
    them saw (``tether.accounts.addresses``); a header from anyone else is not believed."""
    from tether.accounts.addresses import client_address as real_client_address

    return chain.normalize_address(real_client_address(request))


@dataclass(frozen=True)
class SystemActor:
    """A system acting without a person behind it (a FHIR client): its events carry no
    user, the system's role (``actor_role``) and its reference (``acting_as``, for
    example ``fhir_client:12``), in its organization's chain."""

    role: str
    reference: str
    organization_id: int
    pk: None = None
    is_authenticated: bool = False


def _actor_role(user: Any) -> str:
    if user is None:
        return "system"
    if isinstance(user, SystemActor):
        return user.role
    if not user.is_authenticated:
        return "anonymous"
    if user.is_staff_member and hasattr(user, "staff_member"):
        return str(user.staff_member.role)
    return str(user.kind)


# --- Writing ----------------------------------------------------------------------------


def _prepare(event: AuditEvent, *, at: dt.datetime | None = None) -> AuditEvent:
    event.chain_key = event.organization_id or SYSTEM_CHAIN
    event.occurred_at = at or timezone.now()
    event.entry_hash = chain.entry_hash(event)
    return event


def _append(event: AuditEvent) -> AuditEvent:
    """Insert the event and its place in the sealer's queue. No lock that other work
    waits on: two inserts, each touching only its own new row (and, for the foreign
    keys, a KEY SHARE lock on the rows it names, which conflicts only with deleting
    them or changing their keys)."""
    _prepare(event)
    event.save(force_insert=True)
    AuditPending.objects.create(event=event, chain_key=event.chain_key)
    return event


def _event(
    *,
    acting_user: Any,
    address: str | None,
    patient: Patient | None,
    action: Action,
    category: Category,
    purpose: Purpose,
    outcome: AuditEvent.Outcome,
    obj: models.Model | None,
    acting_as: str,
    relation: Relation | str,
    actor_role: str | None = None,
) -> AuditEvent:
    """``actor_role``: ``_actor_role(acting_user)``, when the caller has it already."""
    is_person = acting_user is not None and bool(acting_user.is_authenticated)
    is_system = isinstance(acting_user, SystemActor)
    if is_system:
        acting_as = acting_as or acting_user.reference
    organization_id = (
        patient.organization_id
        if patient is not None
        else (getattr(acting_user, "organization_id", None) if is_person or is_system else None)
    )
    event = _new_event(
        organization_id=organization_id,
        actor_id=acting_user.pk if is_person else None,
        actor_role=actor_role if actor_role is not None else _actor_role(acting_user),
        acting_as=str(acting_as),
        relation=str(relation.value if isinstance(relation, Relation) else relation),
        patient_id=patient.pk if patient is not None else None,
        action=str(action.value if isinstance(action, Action) else action),
        category=str(category.value if isinstance(category, Category) else category),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        purpose=str(purpose.value if isinstance(purpose, Purpose) else purpose),
        client_address=address,
        outcome=str(outcome.value if isinstance(outcome, AuditEvent.Outcome) else outcome),
    )
    return event


_ATTNAMES = tuple(field.attname for field in AuditEvent._meta.concrete_fields)


def _new_event(**values: Any) -> AuditEvent:
    """An unsaved event, built as Django builds a row it reads (positional values in the
    fields' order): a list page builds sixty of them, and Django's keyword path was most
    of the time it took to build its audit rows. Unlike ``AuditEvent(**values)``, a field
    not given is None, not its default: the id, and the chain key, moment and entry hash
    that ``_prepare`` sets before any event is written."""
    return AuditEvent(*(values.get(name) for name in _ATTNAMES))


def _actor_and_address(request: HttpRequest | None, actor: Any) -> tuple[Any, str | None]:
    context = _context.get()
    if request is not None:
        return actor, client_address(request)
    if context is not None:
        return (actor if actor is not None else context.user), context.client_address
    return actor, None


def record(
    *,
    request: HttpRequest | None,
    actor: User | SystemActor | None,
    patient: Patient | None,
    action: Action,
    category: Category,
    purpose: Purpose,
    outcome: AuditEvent.Outcome,
    obj: models.Model | None = None,
    acting_as: str = "",
    relation: Relation | str = "",
) -> AuditEvent:
    """Append one event to the trail (see the module docstring for transactions).

    ``request=None`` takes the client address (and, when ``actor`` is None, the actor)
    from the request-scoped context.
    """
    acting_user, address = _actor_and_address(request, actor)
    event = _event(
        acting_user=acting_user,
        address=address,
        patient=patient,
        action=action,
        category=category,
        purpose=purpose,
        outcome=outcome,
        obj=obj,
        acting_as=acting_as,
        relation=relation,
    )
    if event.outcome == AuditEvent.Outcome.DENIED:
        # Durable: committed now, whatever the request does next; refuses to nest.
        with transaction.atomic(durable=True):
            return _append(event)
    waiting = _held.get()
    if waiting is not None:
        # Inside held(): written with the block's other events, in its transaction.
        waiting.append(event)
        return event
    kept = _together.get()
    if kept is not None and not _in_transaction():
        kept.append(event)  # a page view's read: written with the others at its end
        return event
    # Joins the caller's transaction (no savepoint: if this fails, the change fails).
    with transaction.atomic(savepoint=False):
        return _append(event)


@contextmanager
def held() -> Iterator[list[AuditEvent]]:
    """Allowed events recorded inside this block are written together when it ends
    (``append_many``: two inserts, whatever their number) instead of two inserts each.

    For a write path that records several events in one transaction (the check-in
    submit: the gate's access event and the service's own). Use it *inside* the
    ``transaction.atomic()`` block of the write, so the events commit with the change
    or not at all; if the block raises, nothing held is written (the caller's
    transaction rolls back anyway). A denied event is never held: it is committed at
    once, as always.
    """
    if _held.get() is not None:  # already holding: the outer block writes them all
        yield []
        return
    waiting: list[AuditEvent] = []
    token = _held.set(waiting)
    try:
        yield waiting
    finally:
        _held.reset(token)
    # Reached only when the block ended normally.
    append_many(waiting)


def event_for(
    *,
    request: HttpRequest | None,
    actor: User | SystemActor | None,
    patient: Patient | None,
    action: Action,
    category: Category,
    purpose: Purpose,
    outcome: AuditEvent.Outcome = AuditEvent.Outcome.ALLOWED,
    object_type: str = "",
    acting_as: str = "",
    relation: Relation | str = "",
) -> AuditEvent:
    """An event ready for ``append_many`` (not saved): the same fields ``record`` fills."""
    return events_for(
        request=request,
        actor=actor,
        action=action,
        object_type=object_type,
        rows=[(patient, category, purpose, acting_as, relation)],
        outcome=outcome,
    )[0]


def events_for(
    *,
    request: HttpRequest | None,
    actor: User | SystemActor | None,
    action: Action,
    object_type: str,
    rows: Iterable[tuple[Patient | None, Category, Purpose, str, Relation | str]],
    outcome: AuditEvent.Outcome = AuditEvent.Outcome.ALLOWED,
) -> list[AuditEvent]:
    """``event_for`` for each of many patients (a list page's rows: each ``(patient,
    category, purpose, acting_as, relation)``), the actor's role and the client address
    worked out once instead of once per row."""
    acting_user, address = _actor_and_address(request, actor)
    role = _actor_role(acting_user)
    events = []
    for patient, category, purpose, acting_as, relation in rows:
        event = _event(
            acting_user=acting_user,
            address=address,
            patient=patient,
            action=action,
            category=category,
            purpose=purpose,
            outcome=outcome,
            obj=None,
            acting_as=acting_as,
            relation=relation,
            actor_role=role,
        )
        event.object_type = object_type
        events.append(event)
    return events


def append_many(events: list[AuditEvent]) -> list[AuditEvent]:
    """Append allowed events built by ``event_for`` in two bulk inserts (a list page:
    one event per patient shown). Joins the caller's transaction like ``record``."""
    if not events:
        return []
    if any(event.outcome != AuditEvent.Outcome.ALLOWED for event in events):
        raise ValueError("append_many writes allowed events; record a denial with record()")
    kept = _together.get()
    if kept is not None and not _in_transaction():
        kept.extend(events)  # a list page's rows: written with the page's other reads
        return events
    for event in events:
        _prepare(event)
    with transaction.atomic(savepoint=False):
        AuditEvent.objects.bulk_create(events)
        AuditPending.objects.bulk_create(
            [AuditPending(event=event, chain_key=event.chain_key) for event in events]
        )
    return events


def record_many(
    *,
    request: HttpRequest | None,
    actor: User | SystemActor | None,
    patients: list[Patient],
    action: Action,
    category: Category,
    purpose: Purpose,
    object_type: str = "",
    relation: Relation | str = "",
) -> list[AuditEvent]:
    """One allowed event per patient, in two inserts (see ``append_many``)."""
    return append_many(
        [
            event_for(
                request=request,
                actor=actor,
                patient=patient,
                action=action,
                category=category,
                purpose=purpose,
                object_type=object_type,
                relation=relation,
            )
            for patient in patients
        ]
    )


def record_access(
    request: HttpRequest,
    *,
    patient: Patient,
    category: Category,
    action: Action,
    purpose: Purpose,
    relation: Relation,
    obj: models.Model | None = None,
) -> AuditEvent:
    acting_as = relation.value if relation in (Relation.PROXY, Relation.BREAK_GLASS) else ""
    return record(
        request=request,
        actor=request.user,  # type: ignore[arg-type]
        patient=patient,
        action=action,
        category=category,
        purpose=purpose,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=obj,
        acting_as=acting_as,
        relation=relation,
    )


def record_denied(
    request: HttpRequest,
    *,
    patient: Patient | None,
    category: Category,
    action: Action,
    purpose: Purpose,
) -> AuditEvent:
    return record(
        request=request,
        actor=request.user,  # type: ignore[arg-type]
        patient=patient,
        action=action,
        category=category,
        purpose=purpose,
        outcome=AuditEvent.Outcome.DENIED,
    )
