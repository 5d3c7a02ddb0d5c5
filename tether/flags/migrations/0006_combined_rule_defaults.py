# New defaults chosen on the tuning cohort (docs/FLAGS.md, "Hold-out validation"):
# the five single-signal disengagement rules are turned off where a program still has
# them exactly at their default (the combined ``disengagement`` rule, created by the
# next sweep, replaces them), and mood and craving move to the shorter window and
# higher threshold that compare a patient with their own three weeks. A rule a program
# changed (threshold, window, severity or on/off) stays as it is. Reversible.

from django.db import migrations

# code: (threshold, window_days, severity) at the default
SINGLE_SIGNAL = {
    "no_login": (7, 7, 1),
    "missed_checkins": (4, 3, 1),
    "missed_sessions": (2, 7, 2),
    "homework_late": (4, 28, 1),
    "no_reply": (14, 5, 1),
}
# code: ((old threshold, old window_days), (new threshold, new window_days))
RETUNED = {
    "mood_drop": ((2, 7), (3, 4)),
    "craving_rise": ((2, 7), (3, 4)),
}


def _move(apps, *, forward: bool) -> None:
    FlagRule = apps.get_model("flags", "FlagRule")
    for code, (threshold, window, severity) in SINGLE_SIGNAL.items():
        FlagRule.objects.filter(
            code=code,
            threshold=threshold,
            window_days=window,
            severity=severity,
            enabled=forward,
        ).update(enabled=not forward)
    for code, (old, new) in RETUNED.items():
        before, after = (old, new) if forward else (new, old)
        FlagRule.objects.filter(code=code, threshold=before[0], window_days=before[1]).update(
            threshold=after[0], window_days=after[1]
        )


def to_new_defaults(apps, schema_editor):
    _move(apps, forward=True)


def to_old_defaults(apps, schema_editor):
    _move(apps, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("flags", "0005_flag_snooze"),
    ]

    operations = [
        migrations.RunPython(to_new_defaults, to_old_defaults),
    ]
