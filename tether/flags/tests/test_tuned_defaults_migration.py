"""The data migration that moves rules still at the old default thresholds to the
tuned ones, and leaves a rule a program changed alone."""

from __future__ import annotations

import importlib

from django.apps import apps

from tether.flags.models import FlagRule
from tether.flags.rules import RULES
from tether.flags.services import rules_ensure_defaults

migration = importlib.import_module("tether.flags.migrations.0004_tuned_rule_defaults")


def test_the_new_defaults_are_the_ones_in_the_rule_list():
    for code, (_old, (threshold, window)) in migration.TUNED.items():
        assert (RULES[code].threshold, RULES[code].window_days) == (threshold, window)


def test_rules_at_the_old_default_move_and_changed_rules_stay(cast):
    rules_ensure_defaults(programs=[cast.iop, cast.adolescent_iop])
    # Put every tuned rule back at its old default, as a database from before has it...
    for code, ((threshold, window), _new) in migration.TUNED.items():
        FlagRule.objects.filter(code=code).update(threshold=threshold, window_days=window)
    # ...except one that the adolescent program had changed on purpose.
    FlagRule.objects.filter(program=cast.adolescent_iop, code="homework_late").update(threshold=3)
    migration.to_new_defaults(apps, None)
    for code in migration.TUNED:
        rule = FlagRule.objects.get(program=cast.iop, code=code)
        assert (rule.threshold, rule.window_days) == (
            RULES[code].threshold,
            RULES[code].window_days,
        )
    assert FlagRule.objects.get(program=cast.adolescent_iop, code="homework_late").threshold == 3
    migration.to_old_defaults(apps, None)
    assert FlagRule.objects.get(program=cast.iop, code="missed_sessions").window_days == 14
    assert FlagRule.objects.get(program=cast.adolescent_iop, code="homework_late").threshold == 3
