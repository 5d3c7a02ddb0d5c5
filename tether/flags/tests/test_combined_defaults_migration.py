"""The data migration to the combined disengagement rule's defaults: rules still at
their default are turned off or moved, a rule a program changed stays as it is."""

from __future__ import annotations

import importlib

from django.apps import apps

from tether.flags.models import FlagRule
from tether.flags.rules import RULES
from tether.flags.services import rules_ensure_defaults

migration = importlib.import_module("tether.flags.migrations.0006_combined_rule_defaults")


def test_the_new_defaults_are_the_ones_in_the_rule_list():
    for code, (threshold, window, severity) in migration.SINGLE_SIGNAL.items():
        spec = RULES[code]
        assert (spec.threshold, spec.window_days, spec.severity, spec.enabled) == (
            threshold,
            window,
            severity,
            False,
        )
    for code, (_old, (threshold, window)) in migration.RETUNED.items():
        assert (RULES[code].threshold, RULES[code].window_days) == (threshold, window)


def test_rules_at_the_old_default_move_and_changed_rules_stay(cast):
    rules_ensure_defaults(programs=[cast.iop, cast.adolescent_iop])
    # A database from before: the single-signal rules on, mood and craving at 2 / 7 days...
    FlagRule.objects.filter(code__in=migration.SINGLE_SIGNAL).update(enabled=True)
    for code, ((threshold, window), _new) in migration.RETUNED.items():
        FlagRule.objects.filter(code=code).update(threshold=threshold, window_days=window)
    # ...where the adolescent program had changed two rules on purpose.
    FlagRule.objects.filter(program=cast.adolescent_iop, code="no_login").update(threshold=5)
    FlagRule.objects.filter(program=cast.adolescent_iop, code="mood_drop").update(threshold=1)
    migration.to_new_defaults(apps, None)
    iop = {r.code: r for r in FlagRule.objects.filter(program=cast.iop)}
    assert not any(iop[code].enabled for code in migration.SINGLE_SIGNAL)
    assert (iop["mood_drop"].threshold, iop["mood_drop"].window_days) == (3, 4)
    teen = {r.code: r for r in FlagRule.objects.filter(program=cast.adolescent_iop)}
    assert teen["no_login"].enabled and teen["no_login"].threshold == 5
    assert not teen["no_reply"].enabled
    assert (teen["mood_drop"].threshold, teen["mood_drop"].window_days) == (1, 7)
    migration.to_old_defaults(apps, None)
    iop = {r.code: r for r in FlagRule.objects.filter(program=cast.iop)}
    assert all(iop[code].enabled for code in migration.SINGLE_SIGNAL)
    assert (iop["craving_rise"].threshold, iop["craving_rise"].window_days) == (2, 7)
