# Flags carry the record category of what raised them: self_report, or part2 (42 CFR
# Part 2) for a Part 2 program's data or a flag that reveals substance use.

from django.db import migrations, models


def label_existing(apps, schema_editor):
    Flag = apps.get_model("flags", "Flag")
    Flag.objects.filter(
        models.Q(episode__program__treats_substance_use=True)
        | models.Q(rule__program__treats_substance_use=True)
        | models.Q(reason="craving_rise")
    ).update(record_category="part2")


class Migration(migrations.Migration):

    dependencies = [
        ('flags', '0002_rules_and_queue'),
        ('organizations', '0002_program_escalation_contact_and_more'),
        ('patients', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='flag',
            name='record_category',
            field=models.CharField(choices=[('self_report', 'Patient self-report (check-ins, measures, homework)'), ('part2', 'Substance-use record (42 CFR Part 2)')], default='self_report', max_length=32, verbose_name='record category'),
        ),
        migrations.RunPython(label_existing, migrations.RunPython.noop),
    ]
