"""Reads for flags. The caller has already asked the gate (category self_report)."""

from __future__ import annotations

from tether.flags.models import Flag
from tether.patients.models import Patient


def open_flags_for(*, patient: Patient) -> list[Flag]:
    return list(Flag.objects.filter(patient=patient, status=Flag.Status.OPEN))
