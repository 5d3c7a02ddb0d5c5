"""Program settings that program admins change: crisis lines and closure days.

Each write records its audit event (ids and codes only) in the same transaction, like
the other program settings (the crisis-phrase list).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from tether.organizations.models import Program, ProgramClosure
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

if TYPE_CHECKING:
    from django.db.models import Model

    from tether.accounts.models import User


class ClosureExistsError(ValueError):
    """The program is already closed on that day."""


def _audit(*, user: User, action: Action, obj: Model) -> None:
    audit.record(
        request=None,
        actor=user,
        patient=None,
        action=action,
        category=Category.GENERAL,
        purpose=Purpose.OPERATIONS,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=obj,
    )


def program_crisis_lines_set(
    *,
    program: Program,
    crisis_line: str,
    after_hours_line: str,
    takes_texts: bool,
    user: User,
    spanish_spoken: bool | None = None,
) -> Program:
    """Change the numbers patients see on the crisis page and the safety plan
    (``spanish_spoken``: None leaves that setting as it is)."""
    with transaction.atomic():
        locked = Program.objects.select_for_update(no_key=True).get(pk=program.pk)
        locked.crisis_line = crisis_line
        locked.after_hours_line = after_hours_line
        locked.crisis_line_takes_texts = takes_texts
        fields = ["crisis_line", "after_hours_line", "crisis_line_takes_texts"]
        if spanish_spoken is not None:
            locked.spanish_spoken = spanish_spoken
            fields.append("spanish_spoken")
        locked.save(update_fields=fields)
        _audit(user=user, action=Action.UPDATE, obj=locked)
    return locked


def program_closure_add(
    *, program: Program, date: dt.date, reason: str, user: User
) -> ProgramClosure:
    """Close the office for a whole day: urgent requests that day go to on-call."""
    try:
        with transaction.atomic():
            closure = ProgramClosure.objects.create(
                organization_id=program.organization_id,
                program=program,
                date=date,
                reason=reason.strip(),
                created_by=user,
            )
            _audit(user=user, action=Action.CREATE, obj=closure)
    except IntegrityError:
        raise ClosureExistsError(date.isoformat()) from None
    return closure


def program_closure_remove(*, closure: ProgramClosure, user: User) -> None:
    """The office opens that day after all."""
    with transaction.atomic():
        _audit(user=user, action=Action.UPDATE, obj=closure)
        ProgramClosure.objects.filter(pk=closure.pk).delete()
