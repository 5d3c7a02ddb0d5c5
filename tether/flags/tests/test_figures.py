"""The queue's figures per program (``figures_for``): counted from one read of the
period's flags."""

from __future__ import annotations

import datetime as dt
from itertools import count

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tether.flags.models import Flag, reason_label
from tether.flags.selectors import figures_for
from tether.patients.models import Patient

_ids = count(1)


def _flag(
    patient: Patient,
    *,
    raised_ago: dt.timedelta,
    reason: str,
    acknowledged_after: dt.timedelta | None = None,
    closed: bool = False,
) -> Flag:
    now = timezone.now()
    raised = now - raised_ago
    return Flag.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=patient.episodes.get(),
        kind=Flag.Kind.DISENGAGEMENT,
        severity=2,
        reason=reason,
        raised_at=raised,
        acknowledged_at=raised + acknowledged_after if acknowledged_after else None,
        status=Flag.Status.CLOSED if closed else Flag.Status.OPEN,
        closed_at=now if closed else None,
        source_type="test",
        source_id=next(_ids),
    )


def test_it_counts_per_program_week_and_rule_with_the_median_wait(cast):
    garcia, kim = cast.patient.patient, cast.adolescent.patient
    hours = dt.timedelta(hours=1)
    _flag(garcia, raised_ago=dt.timedelta(days=1), reason="no_login", acknowledged_after=2 * hours)
    _flag(
        garcia,
        raised_ago=dt.timedelta(days=1),
        reason="no_login",
        acknowledged_after=4 * hours,
        closed=True,
    )
    _flag(
        garcia,
        raised_ago=dt.timedelta(days=1),
        reason="phq9_deterioration",
        acknowledged_after=9 * hours,
    )
    _flag(garcia, raised_ago=dt.timedelta(days=20), reason="no_login")
    _flag(kim, raised_ago=dt.timedelta(days=2), reason="no_login", closed=True)
    _flag(kim, raised_ago=dt.timedelta(weeks=10), reason="no_login")  # before the period
    since = timezone.now() - dt.timedelta(weeks=8)
    with CaptureQueriesContext(connection) as captured:
        figures = {f.program: f for f in figures_for(user=cast.clinical_lead, since=since)}
    flag_reads = [q for q in captured.captured_queries if '"flags_flag"' in q["sql"]]
    assert len(flag_reads) == 1
    adult = figures[garcia.episodes.get().program.name]
    assert (adult.raised, adult.resolved, adult.share_resolved) == (4, 1, 0.25)
    assert adult.median_hours_to_acknowledge == 4.0
    weeks = [(row.reason, row.flags) for row in adult.per_week]
    assert sorted(weeks) == [("no_login", 1), ("no_login", 2), ("phq9_deterioration", 1)]
    assert [row.week for row in adult.per_week] == sorted(row.week for row in adult.per_week)
    # Named as the queue names them, not by their codes.
    assert {row.label for row in adult.per_week} == {
        reason_label("no_login"),
        reason_label("phq9_deterioration"),
    }
    assert "phq9_deterioration" not in {row.label for row in adult.per_week}
    teen = figures[kim.episodes.get().program.name]
    assert (teen.raised, teen.resolved, teen.median_hours_to_acknowledge) == (1, 1, None)


def test_the_queue_shows_them_per_week_and_rule(cast, client_as):
    """The lead's queue: each program's weeks, the rule by its name and the count, the
    week by its first day (the week's rows are a Jinja2 template: tether/lib/jinja.py)."""
    import re

    from django.urls import reverse

    garcia = cast.patient.patient
    _flag(garcia, raised_ago=dt.timedelta(hours=2), reason="no_login")
    _flag(garcia, raised_ago=dt.timedelta(hours=3), reason="no_login")
    page = client_as(cast.clinical_lead).get(reverse("flags:queue")).content.decode()
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>(\d+)</td></tr>", page)
    weeks = [
        week for week, label, flags in rows if (label, flags) == (reason_label("no_login"), "2")
    ]
    assert len(weeks) == 1
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", weeks[0])
