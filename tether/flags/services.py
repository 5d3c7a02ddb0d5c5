"""Writes for flags: raising (at once from an answer, or from the periodic sweep),
and the clinical lead's steps (acknowledge, assign, document, resolve).

``flag_raise`` callers run it inside their own transaction, so a flag is stored
together with the answer that raised it, or not at all.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.accounts.models import User
from tether.flags.models import Flag, FlagRule, Kind
from tether.flags.rules import EVALUATORS, RULES, SPECS
from tether.organizations.models import Program
from tether.patients.models import Episode, Patient
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category


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
        flag, created = Flag.objects.get_or_create(
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
            },
        )
        if created:
            audit.record(
                request=None,
                actor=None,
                patient=patient,
                action=Action.CREATE,
                category=Category.SELF_REPORT,
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


def flags_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Evaluate every enabled rule as set-based queries and raise the new flags.

    Per rule: one SELECT for the patients it fires for (those with an open flag for
    the rule excluded in SQL), one bulk INSERT, then the audit events of the new
    flags. A flag that was resolved while its condition persists is raised again.
    Returns new flags per rule code.
    """
    now = now or timezone.now()
    rules_ensure_defaults()
    raised: dict[str, int] = {}
    rules = FlagRule.objects.filter(enabled=True, program__is_active=True).order_by("pk")
    for rule in rules:
        open_flag = Flag.objects.filter(
            patient_id=OuterRef("patient_id"), rule_id=rule.pk, status=Flag.Status.OPEN
        )
        hits = (
            EVALUATORS[rule.code](rule, now)
            .exclude(Exists(open_flag))
            .values_list("patient_id", "pk", "organization_id", "value")  # type: ignore[misc]
        )
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
            )
            for patient_id, episode_id, organization_id, value in hits
        ]
        if not new:
            continue
        with transaction.atomic():
            Flag.objects.bulk_create(new, ignore_conflicts=True)
            created = Flag.objects.filter(rule=rule, raised_at=now).select_related("patient")
            count = 0
            for flag in created:
                count += 1
                audit.record(
                    request=None,
                    actor=None,
                    patient=flag.patient,
                    action=Action.CREATE,
                    category=Category.SELF_REPORT,
                    purpose=Purpose.TREATMENT,
                    outcome=AuditEvent.Outcome.ALLOWED,
                    obj=flag,
                )
        raised[rule.code] = raised.get(rule.code, 0) + count
    return raised


# The clinical lead's steps -------------------------------------------------------

ACTING_ROLES = frozenset({"clinical_lead", "clinician", "on_call"})


def _locked(flag: Flag) -> Flag:
    return Flag.objects.select_for_update().get(pk=flag.pk)


def _check_can_act(actor: User, flag: Flag) -> None:
    from tether.flags.selectors import queue_for

    if not queue_for(user=actor).filter(pk=flag.pk).exists():
        raise PermissionDenied(_("You cannot act on this flag."))


def _audit_step(actor: User, flag: Flag) -> None:
    audit.record(
        request=None,
        actor=actor,
        patient=flag.patient,
        action=Action.UPDATE,
        category=Category.SELF_REPORT,
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


__all__ = [
    "RULES",
    "flag_acknowledge",
    "flag_assign",
    "flag_raise",
    "flag_resolve",
    "flags_sweep",
    "rule_update",
    "rules_ensure_defaults",
]
