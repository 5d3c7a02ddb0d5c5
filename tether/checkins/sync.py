"""Load the shipped instrument files into the database (migration 0002 and
``manage.py sync_instruments``). A shipped version is never edited in place once
patients may have answered it: change the file's ``version`` instead."""

from __future__ import annotations

from typing import Any

from tether.checkins import engine


def sync_instruments(instrument_model: Any = None) -> list[str]:
    """Create missing versions, refresh unanswered ones, mark each code's newest
    version current. Returns a line per change."""
    if instrument_model is None:
        from tether.checkins.models import Instrument as instrument_model
    changes: list[str] = []
    newest: dict[str, int] = {}
    for definition, data in engine.shipped():
        fields = {
            "name": definition.name,
            "short_name": definition.short_name,
            "is_validated": definition.validated,
            "loinc_panel": definition.loinc_panel,
            "loinc_total": definition.loinc_total,
            "definition": data,
        }
        row = instrument_model.objects.filter(
            code=definition.code, version=definition.version
        ).first()
        if row is None:
            instrument_model.objects.create(
                code=definition.code, version=definition.version, is_current=False, **fields
            )
            changes.append(f"added {definition.code} v{definition.version}")
        elif row.definition != data:
            for name, value in fields.items():
                setattr(row, name, value)
            row.save(update_fields=list(fields))
            changes.append(f"updated {definition.code} v{definition.version}")
        newest[definition.code] = max(newest.get(definition.code, 0), definition.version)
    for code, version in newest.items():
        current = instrument_model.objects.filter(code=code, is_current=True).first()
        if current is not None and current.version == version:
            continue
        instrument_model.objects.filter(code=code, is_current=True).update(is_current=False)
        instrument_model.objects.filter(code=code, version=version).update(is_current=True)
        changes.append(f"{code}: v{version} is current")
    return changes
