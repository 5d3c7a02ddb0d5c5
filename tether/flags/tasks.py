"""Background tasks: the periodic flag sweep (scheduled in tether/crisis/scheduler.py)
and the evaluation of one patient's rules as soon as relevant data arrives
(enqueued by ``tether.flags.services.evaluate_soon`` after the commit)."""

from __future__ import annotations

from django.tasks import task

from tether.flags.services import flags_evaluate_patient, flags_sweep


@task()
def sweep_flags() -> int:
    """Evaluate every program's rules and raise the new flags; returns how many."""
    return sum(flags_sweep().values())


@task()
def evaluate_patient_flags(patient_id: int) -> int:
    """Evaluate one patient's rules (the sweep's queries, restricted to them); returns
    how many new flags were raised."""
    return sum(flags_evaluate_patient(patient_id).values())
