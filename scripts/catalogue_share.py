"""The share of patient- and family-facing messages with Spanish, from the catalogue.

    DEBUG=1 .venv/bin/python scripts/catalogue_share.py

Counts the msgids tether/lib/catalogue.py finds in patient- and family-facing templates
and Python modules, and how many the compiled Spanish catalogue has; then the whole
catalogue (staff pages included) for comparison.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")

import django

django.setup()

from tether.lib import catalogue  # noqa: E402


def main() -> None:
    spanish = catalogue.spanish_catalogue()
    messages = catalogue.patient_messages()
    translated = [key for key in messages if catalogue.is_translated(key, spanish)]
    share = 100 * len(translated) / len(messages)
    print(f"patient/family-facing: {len(translated)} of {len(messages)} translated ({share:.1f}%)")
    po = catalogue.CATALOGUE.with_suffix(".po").read_text(encoding="utf-8")
    entries = [block for block in po.split("\n\n") if "\nmsgid " in f"\n{block}"][1:]
    done = [
        b for b in entries if not b.rstrip().endswith(('msgstr ""', 'msgstr[1] ""', 'msgstr[2] ""'))
    ]
    whole = 100 * len(done) / len(entries)
    print(f"whole catalogue (staff pages too): {len(done)} of {len(entries)} ({whole:.1f}%)")


if __name__ == "__main__":
    main()
