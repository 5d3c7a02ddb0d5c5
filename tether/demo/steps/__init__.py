"""The demo is built in steps, in this order. Each step is a module with a
``run(ctx: DemoContext) -> None`` function that reads what earlier steps made from
the context and adds its own.

A later feature adds its demo data as a new module here (check-ins, measures,
flags, messages...) appended to ``STEPS``, attaching its records to the story
people in ``tether.demo.stories``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tether.demo.context import DemoContext
from tether.demo.steps import checkins as checkins_step
from tether.demo.steps import consent as consent_step
from tether.demo.steps import (
    crisis_and_messages,
    emergency_access,
    organization,
    patients,
    schedule,
    staff,
)
from tether.demo.steps import family as family_step
from tether.demo.steps import flags as flags_step
from tether.demo.steps import homework as homework_step


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[DemoContext], None]


STEPS: tuple[Step, ...] = (
    Step("organization and programs", organization.run),
    Step("staff", staff.run),
    Step("patients, episodes and care teams", patients.run),
    Step("appointments and attendance", schedule.run),
    Step("emergency access", emergency_access.run),
    Step("check-ins and measures", checkins_step.run),
    Step("safety plans and homework", homework_step.run),
    Step("messages and urgent-contact requests", crisis_and_messages.run),
    Step("consent, disclosures and family scopes", consent_step.run),
    Step("family updates, assignments and messages", family_step.run),
    Step("flags from the rules", flags_step.run),
)
