from __future__ import annotations

from pathlib import Path

from tether.privacy.policy import as_markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "PRIVACY.md"


def test_it_keeps_the_documented_decision_table_true():
    assert as_markdown() in DOC.read_text(encoding="utf-8"), (
        "docs/PRIVACY.md's decision table differs from tether/privacy/policy.py: "
        "paste policy.as_markdown() into the doc."
    )
