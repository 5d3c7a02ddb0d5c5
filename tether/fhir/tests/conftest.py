from __future__ import annotations

import datetime as dt

import pytest

from tether.organizations.models import Program
from tether.testing.cast import make_patient


@pytest.fixture
def recovery(cast):
    program = Program.objects.create(
        organization=cast.organization,
        name="Recovery IOP",
        kind=Program.Kind.IOP,
        crisis_line="555-0120",
        treats_substance_use=True,
    )
    user = make_patient(
        cast.organization,
        program,
        "rae.recovery",
        first_name="Rae",
        last_name="Reed",
        born=dt.date(1990, 3, 4),
    )
    return program, user.patient
