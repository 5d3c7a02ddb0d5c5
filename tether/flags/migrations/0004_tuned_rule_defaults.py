# Default thresholds tuned on the simulated cohort (docs/FLAGS.md, "Tuning"). Rules a
# program still has at the old default (threshold and window) move to the new one; a
# rule the program changed stays as it is. Reversible.

from django.db import migrations

# code: ((old threshold, old window_days), (new threshold, new window_days))
TUNED = {
    "homework_late": ((2, 28), (4, 28)),
    "no_reply": ((5, 5), (14, 5)),
    "missed_checkins": ((3, 3), (4, 3)),
    "missed_sessions": ((2, 14), (2, 7)),
}


def _move(apps, *, forward: bool) -> None:
    FlagRule = apps.get_model("flags", "FlagRule")
    for code, (old, new) in TUNED.items():
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
        ("flags", "0003_flag_record_category"),
    ]

    operations = [
        migrations.RunPython(to_new_defaults, to_old_defaults),
    ]
