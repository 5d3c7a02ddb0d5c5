"""Load the shipped instrument definitions (tether/checkins/instruments/*.json)."""

from django.db import migrations


def load(apps, schema_editor):
    from tether.checkins.sync import sync_instruments

    sync_instruments(apps.get_model("checkins", "Instrument"))


class Migration(migrations.Migration):
    dependencies = [("checkins", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
