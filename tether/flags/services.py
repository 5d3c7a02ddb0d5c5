"""Writes for flags: raising (at once from an answer, from the periodic sweep, or
from the same sweep restricted to one patient as soon as relevant data arrives),
and the clinical lead's steps (acknowledge, assign, document, resolve).

``flag_raise`` callers run it inside their own transaction, so a flag is stored
together with the answer that raised it, or not at all. ``evaluate_soon`` is the
one-line hook a service calls when it stores data a rule reads: after the commit it
enqueues ``tether.flags.tasks.evaluate_patient_flags`` for the background worker.

Every flag stores the record category of what raised it (``Flag.record_category``):
``part2`` when it comes from a Part 2 program's data (``gate.record_category_for``)
or says something about substance use (``PART2_RULES``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.accounts.models import User
from tether.flags.models import Flag, FlagRule, Kind
from tether.flags.rules import PART2_RULES, RULES, SPECS, evaluate, sweep_pass
from tether.organizations.models import Program
from tether.patients.models import Episode, Patient
from tether.privacy import audit
from tether.privacy.gate import decide, record_category_for
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category


def flag_category(*, subject: Patient | Episode, reason: str) -> Category:
    """The record category a new flag carries: Part 2 when the data behind it is a
    Part 2 record (its program treats substance use) or the flag itself reveals
    substance use (a craving flag, whatever the program)."""
    if reason in PART2_RULES:
        return Category.PART2
    return record_category_for(subject, Category.SELF_REPORT)


def _rule_category(rule: FlagRule) -> Category:
    # The rule's program decides, as record_category_for does for an episode.
    if rule.code in PART2_RULES or rule.program.treats_substance_use:
        return Category.PART2
    return Category.SELF_REPORT


def flag_raise(
    *,
    patient: Patient,
    episode: Episode | None,
    kind: Kind,
    reason: str,
    source: models.Model,
) -> tuple[Flag, bool]:
    """The open-or-closed flag for this reason and source; created (and audited) if new."""
    with transaction.atomic():
        flag, created = Flag.objects.get_or_create(  # type: ignore[misc]  # callable default
            kind=kind,
            reason=reason,
            source_type=source._meta.label_lower,
            source_id=source.pk,
            rule=None,
            defaults={
                "organization_id": patient.organization_id,
                "patient": patient,
                "episode": episode,
                "raised_at": timezone.now(),
                # A callable: looked up only when the flag is new.
                "record_category": lambda: flag_category(
                    subject=episode if episode is not None else patient, reason=reason
                ),
            },
        )
        if created:
            audit.record(
                request=None,
                actor=None,
                patient=patient,
                action=Action.CREATE,
                category=Category(flag.record_category),
                purpose=Purpose.TREATMENT,
                outcome=AuditEvent.Outcome.ALLOWED,
                obj=flag,
            )
    return flag, created


def rules_ensure_defaults(*, programs: list[Program] | None = None) -> int:
    """Create the default rules each program is missing (two queries); returns how many."""
    if programs is None:
        programs = list(Program.objects.filter(is_active=True))
    rows = [
        FlagRule(
            organization_id=program.organization_id,
            program=program,
            code=spec.code,
            kind=spec.kind,
            severity=spec.severity,
            threshold=spec.threshold,
            window_days=spec.window_days,
            enabled=spec.enabled,
        )
        for program in programs
        for spec, _evaluate in SPECS
    ]
    before = FlagRule.objects.count()
    FlagRule.objects.bulk_create(rows, ignore_conflicts=True)
    return FlagRule.objects.count() - before


def rule_update(
    *, actor: User, rule: FlagRule, threshold: int, window_days: int, severity: int, enabled: bool
) -> FlagRule:
    """Change a program's rule; a nonsense threshold raises ValidationError, nothing saved."""
    candidate = FlagRule(
        pk=rule.pk,
        organization_id=rule.organization_id,
        program_id=rule.program_id,
        code=rule.code,
        kind=rule.kind,
        severity=severity,
        threshold=threshold,
        window_days=window_days,
        enabled=enabled,
    )
    candidate.full_clean(exclude=["program", "organization"], validate_unique=False)
    with transaction.atomic():
        candidate.save()
        audit.record(
            request=None,
            actor=actor,
            patient=None,
            action=Action.UPDATE,
            category=Category.GENERAL,
            purpose=Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=candidate,
        )
    return candidate


def flags_sweep(
    *, now: dt.datetime | None = None, patient_ids: Collection[int] | None = None
) -> dict[str, int]:
    """Evaluate every enabled rule as set-based queries and raise the new flags.

    Per rule: one SELECT for the patients it fires for (those with an open flag for
    the rule excluded in SQL), one bulk INSERT, then the audit events of the new
    flags. A flag that was resolved while its condition persists is raised again.
    ``patient_ids`` restricts the same queries to these patients (and the rules to
    their programs): the evaluation that runs as soon as data arrives. Returns new
    flags per rule code.
    """
    now = now or timezone.now()
    if patient_ids is None:
        with sweep_pass():
            return _sweep(now, None)
    return _sweep(now, patient_ids)


def _sweep(now: dt.datetime, patient_ids: Collection[int] | None) -> dict[str, int]:
    raised: dict[str, int] = {}
    rules = FlagRule.objects.filter(enabled=True, program__is_active=True)
    if patient_ids is None:
        rules_ensure_defaults()
    else:
        patient_ids = list(patient_ids)
        programs = list(
            Program.objects.filter(
                is_active=True,
                episodes__patient_id__in=patient_ids,
                episodes__status=Episode.Status.ACTIVE,
            ).distinct()
        )
        if not programs:
            return raised
        rules_ensure_defaults(programs=programs)
        rules = rules.filter(program__in=programs)
    for rule in rules.select_related("program").order_by("pk"):
        # An open flag (snoozed or not) for the rule keeps it quiet; so does a flag raised
        # within the rule's re-arm period (hysteresis), even if it was resolved.
        quiet = Q(status=Flag.Status.OPEN)
        rearm_days = RULES[rule.code].rearm_days
        if rearm_days:
            quiet |= Q(raised_at__gt=now - dt.timedelta(days=rearm_days))
        recent_flag = Flag.objects.filter(quiet, patient_id=OuterRef("patient_id"), rule_id=rule.pk)
        evaluated = evaluate(rule, now, patient_ids=patient_ids)
        hits = evaluated.exclude(Exists(recent_flag)).values_list(
            "patient_id",
            "pk",
            "organization_id",
            "value",  # type: ignore[misc]
        )
        category = _rule_category(rule)
        new = [
            Flag(
                organization_id=organization_id,
                patient_id=patient_id,
                episode_id=episode_id,
                rule=rule,
                kind=rule.kind,
                severity=rule.severity,
                reason=rule.code,
                value=int(value) if value is not None else None,
                source_type="patients.episode",
                source_id=episode_id,
                raised_at=now,
                record_category=category,
            )
            for patient_id, episode_id, organization_id, value in hits
        ]
        if not new:
            continue
        with transaction.atomic():
            Flag.objects.bulk_create(new, ignore_conflicts=True)
            created = Flag.objects.filter(rule=rule, raised_at=now).select_related("patient")
            if patient_ids is not None:
                created = created.filter(patient_id__in=patient_ids)
            # One event per new flag, as before, appended in two bulk inserts.
            events = []
            for flag in created:
                event = audit.event_for(
                    request=None,
                    actor=None,
                    patient=flag.patient,
                    action=Action.CREATE,
                    category=category,
                    purpose=Purpose.TREATMENT,
                    object_type=flag._meta.label_lower,
                )
                event.object_id = str(flag.pk)
                events.append(event)
            audit.append_many(events)
        raised[rule.code] = raised.get(rule.code, 0) + len(events)
    return raised


def flags_evaluate_patient(patient_id: int, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Evaluate one patient's rules now: the sweep's own set-based queries, restricted
    to this patient. Returns new flags per rule code."""
    return flags_sweep(now=now, patient_ids=[patient_id])


def _enqueue_evaluation(patient_id: int) -> None:
    from tether.flags.tasks import evaluate_patient_flags

    evaluate_patient_flags.enqueue(patient_id)


def evaluate_soon(patient_id: int) -> None:
    """Evaluate this patient's rules in the background worker once the current
    transaction commits (the data it stores is then visible to the worker).

    Called by the services that store what a rule reads (check-ins and measures,
    patient messages, urgent-contact requests, homework). Nothing is enqueued if the
    transaction rolls back; a failure to enqueue is logged and never undoes the
    patient's submission (``robust``), and the 15-minute sweep catches up anyway.
    """
    pending = transaction.get_connection().run_on_commit
    if any(getattr(func, "flags_patient_id", None) == patient_id for _s, func, _r in pending):
        return  # already due after this commit (e.g. a message that raised an urgent request)

    def enqueue() -> None:
        enqueue.flags_patient_id = None  # type: ignore[attr-defined]  # done: not pending
        _enqueue_evaluation(patient_id)

    enqueue.flags_patient_id = patient_id  # type: ignore[attr-defined]
    transaction.on_commit(enqueue, robust=True)


def evaluate_in_transaction(patient_id: int) -> None:
    """``evaluate_soon``, with the task stored in the caller's transaction when the
    tasks backend is the database (the project's: ``django_tasks_db``, the same
    database): an outbox row that commits with the data or not at all, visible to the
    worker only after the commit, with no second commit. Any other backend (the
    in-process one in tests) falls back to ``evaluate_soon``'s after-commit enqueue.

    One task per patient per transaction. Unlike ``evaluate_soon`` a failure to store
    the task fails the submission, which the patient can send again (the database
    refused a write; nothing was stored).
    """
    from django.conf import settings

    from tether.crisis.health import DATABASE_BACKEND

    connection = transaction.get_connection()
    if (
        not connection.in_atomic_block
        or settings.TASKS.get("default", {}).get("BACKEND") != DATABASE_BACKEND
    ):
        evaluate_soon(patient_id)
        return
    pending = connection.run_on_commit
    if any(getattr(func, "flags_patient_id", None) == patient_id for _s, func, _r in pending):
        return  # this transaction already stored (or will enqueue) one

    def stored() -> None:  # a marker only: the task was stored with the data
        stored.flags_patient_id = None  # type: ignore[attr-defined]

    _enqueue_evaluation(patient_id)
    stored.flags_patient_id = patient_id  # type: ignore[attr-defined]
    transaction.on_commit(stored)


# The clinical lead's steps -------------------------------------------------------

ACTING_ROLES = frozenset({"clinical_lead", "clinician", "on_call"})


def _locked(flag: Flag) -> Flag:
    return Flag.objects.select_for_update(no_key=True).get(pk=flag.pk)


def _check_can_act(actor: User, flag: Flag) -> None:
    from tether.flags.selectors import _is_clinical, follow_up_category

    allowed = (
        _is_clinical(actor)
        and (
            decide(actor, flag.patient, category=follow_up_category(flag), action=Action.CREATE)
        ).allowed
    )
    if not allowed:
        raise PermissionDenied(_("You cannot act on this flag."))


def _audit_step(actor: User, flag: Flag) -> None:
    from tether.flags.selectors import follow_up_category

    audit.record(
        request=None,
        actor=actor,
        patient=flag.patient,
        action=Action.CREATE,
        category=follow_up_category(flag),
        purpose=Purpose.TREATMENT,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=flag,
    )


def flag_acknowledge(*, actor: User, flag: Flag, now: dt.datetime | None = None) -> Flag:
    _check_can_act(actor, flag)
    with transaction.atomic():
        flag = _locked(flag)
        if flag.status != Flag.Status.OPEN:
            raise ValidationError(_("This flag is already resolved."))
        if flag.acknowledged_at is not None:
            raise ValidationError(_("Someone has already acknowledged this flag."))
        flag.acknowledged_at = now or timezone.now()
        flag.acknowledged_by = actor
        flag.save(update_fields=["acknowledged_at", "acknowledged_by"])
        _audit_step(actor, flag)
    return flag


def flag_assign(*, actor: User, flag: Flag, assignee: User) -> Flag:
    _check_can_act(actor, flag)
    from tether.flags.selectors import queue_for

    if not queue_for(user=assignee).filter(pk=flag.pk).exists():
        raise ValidationError(_("This person cannot see this patient's flags."))
    with transaction.atomic():
        flag = _locked(flag)
        if flag.status != Flag.Status.OPEN:
            raise ValidationError(_("This flag is already resolved."))
        flag.assigned_to = assignee
        flag.save(update_fields=["assigned_to"])
        _audit_step(actor, flag)
    return flag


def flag_resolve(
    *,
    actor: User,
    flag: Flag,
    action: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> Flag:
    """Document what was done and close the flag (acknowledging it if nobody had)."""
    _check_can_act(actor, flag)
    if action not in Flag.Action.values:
        raise ValidationError(_("Choose what was done."))
    if action == Flag.Action.NO_ACTION and not note.strip():
        raise ValidationError(_("Say why no action was needed."))
    now = now or timezone.now()
    with transaction.atomic():
        flag = _locked(flag)
        if flag.status != Flag.Status.OPEN:
            raise ValidationError(_("This flag is already resolved."))
        if flag.acknowledged_at is None:
            flag.acknowledged_at = now
            flag.acknowledged_by = actor
        flag.action = action
        flag.action_note = note.strip()
        flag.status = Flag.Status.CLOSED
        flag.closed_at = now
        flag.closed_by = actor
        flag.save()
        _audit_step(actor, flag)
    return flag


# A snooze is a short, documented pause, not a way to dismiss a flag.
SNOOZE_MAX_DAYS = 28


def flag_snooze(
    *,
    actor: User,
    flag: Flag,
    until: dt.date | None,
    reason: str,
    now: dt.datetime | None = None,
) -> Flag:
    """Keep an open flag quiet until ``until`` (out of the queue and the caseload
    counts; the rule raises no second flag meanwhile), with the reason documented and
    audited. Safety flags cannot be snoozed. Snoozing again replaces the date."""
    _check_can_act(actor, flag)
    now = now or timezone.now()
    today = timezone.localdate(now)
    if flag.kind == Kind.SAFETY:
        raise ValidationError(_("A safety flag cannot be snoozed: act on it or resolve it."))
    if until is None:
        raise ValidationError(_("Choose the date until which the flag stays quiet."))
    if until <= today:
        raise ValidationError(_("Choose a date after today."))
    if until > today + dt.timedelta(days=SNOOZE_MAX_DAYS):
        raise ValidationError(
            _("A flag can be snoozed for %(days)d days at most.") % {"days": SNOOZE_MAX_DAYS}
        )
    if not reason.strip():
        raise ValidationError(_("Say why the flag can wait."))
    with transaction.atomic():
        flag = _locked(flag)
        if flag.status != Flag.Status.OPEN:
            raise ValidationError(_("This flag is already resolved."))
        flag.snoozed_until = until
        flag.snooze_reason = reason.strip()
        flag.snoozed_at = now
        flag.snoozed_by = actor
        flag.save(update_fields=["snoozed_until", "snooze_reason", "snoozed_at", "snoozed_by"])
        _audit_step(actor, flag)
    return flag


__all__ = [
    "RULES",
    "evaluate_in_transaction",
    "evaluate_soon",
    "flag_acknowledge",
    "flag_assign",
    "flag_raise",
    "flag_resolve",
    "flag_snooze",
    "flags_evaluate_patient",
    "flags_sweep",
    "rule_update",
    "rules_ensure_defaults",
]
