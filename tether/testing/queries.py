"""Counting a page's own queries apart from its audit rows.

List pages write one audit row per patient shown (``tether.privacy.list_audit``), in two
bulk inserts whatever the number of patients. Query-count tests compare the page's own statements at two sizes with ``page_queries`` and check the
audit rows separately (one per patient shown)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_AUDIT_TABLES = ('"privacy_auditevent"', '"privacy_auditpending"', '"privacy_auditchainhead"')


def page_queries(captured: Iterable[dict[str, Any]]) -> list[str]:
    """The captured statements that are not the audit trail's."""
    return [
        query["sql"]
        for query in captured
        if not any(table in query["sql"] for table in _AUDIT_TABLES)
    ]
