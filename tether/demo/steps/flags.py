"""Flags for the demo clinic: the real sweep over everything the earlier steps seeded,
so the deteriorating patient carries a reliable-deterioration flag and the silent
one a disengagement flag (no sign-in for ten days), each saying why."""

from __future__ import annotations

from tether.demo.context import DemoContext
from tether.flags.services import flags_sweep


def run(ctx: DemoContext) -> None:
    flags_sweep(now=ctx.now)
