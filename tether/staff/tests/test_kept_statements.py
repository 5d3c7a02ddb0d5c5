"""Every statement the busiest pages keep compiled (``tether.lib.statements``) is kept, for
every role that opens them: one that cannot be kept is silently built again on every
request, as the clinician's board's default order and the front desk's relations and
duty banner were until a value their statement did not use stopped them being kept
(docs/BENCHMARKS.md, eleventh pass)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from tether.lib import statements

PAGES = {
    "assigned_clinician": ["staff:dashboard", "flags:queue"],
    "clinical_lead": ["staff:dashboard", "flags:queue"],
    "on_call": ["staff:dashboard", "flags:queue"],
    "front_desk": ["staff:dashboard"],
    "program_admin": ["staff:dashboard"],
}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statements are kept on PostgreSQL")
@pytest.mark.parametrize("persona", sorted(PAGES))
def test_every_statement_of_the_staff_pages_is_kept(persona, cast, client_as):
    client = client_as(getattr(cast, persona))
    statements.forget()
    try:
        for name in PAGES[persona]:
            assert client.get(reverse(name)).status_code == 200
        review = reverse("staff:review", args=[cast.patient.patient.pk])
        if persona in ("assigned_clinician", "clinical_lead"):
            assert client.get(review).status_code == 200
        built_every_time = [key for key, kept in statements._kept.items() if kept is None]
        assert statements._kept and built_every_time == []
    finally:
        statements.forget()
