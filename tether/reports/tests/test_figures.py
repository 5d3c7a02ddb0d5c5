"""Each figure against a small hand-built cohort with known answers (before the
small-number rule, which tests/test_suppression.py checks on its own)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tether.patients.models import CareTeamMember, Episode, LevelOfCare
from tether.reports import figures
from tether.reports.scope import Scope, scope_from_query
from tether.reports.tables import Table
from tether.reports.testing import admit, at, invite, measure, review_opened, session
from tether.scheduling.models import Attendance
from tether.testing.cast import Cast

TODAY = timezone.localdate()  # the cast admits its patients 21 days before today
START = TODAY - dt.timedelta(days=59)


@pytest.fixture(autouse=True)
def _today_when_the_test_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """TODAY and START read when each test starts, not when the module was imported: a
    run that crosses midnight would put the scope a day behind the cast's admissions."""
    today = timezone.localdate()
    monkeypatch.setattr(f"{__name__}.TODAY", today)
    monkeypatch.setattr(f"{__name__}.START", today - dt.timedelta(days=59))


@pytest.fixture
def scope(cast: Cast) -> Scope:
    return Scope(cast.organization.pk, (cast.iop.pk,), START, TODAY)


def _row(table: Table, group: str) -> dict[str, Any]:
    return next(r for r in table.rows if r["group"] == group)


def test_it_counts_the_outcomes_with_missing_second_measures(cast: Cast, scope: Scope) -> None:
    dana = cast.assigned_clinician.staff_member
    first, last = at(START + dt.timedelta(days=2)), at(START + dt.timedelta(days=30))

    def course(phq: tuple[int, ...], gad: tuple[int, ...], **kw: object) -> Episode:
        episode = admit(cast.iop, dana, START, **kw)  # type: ignore[arg-type]
        for when, total in zip((first, last), phq, strict=False):
            measure(episode, "phq9", when, total)
        for when, total in zip((first, last), gad, strict=False):
            measure(episode, "gad7", when, total)
        return episode

    course((15, 5), (12, 4))  # recovered, reliably improved: reliable recovery
    course((12, 14), (9, 14))  # GAD-7 rose 5: reliable deterioration
    course((8, 7), (5, 4), level=LevelOfCare.PHP)  # not at caseness, no reliable change
    course((16,), (10,))  # no second measure
    course((), ())  # never measured: not counted at all

    by_program = figures.outcomes(scope, figures.Names.for_scope(scope), at_discharge=False)[0]
    total = by_program.total
    assert total is not None
    assert (total["with_baseline"], total["paired"], total["no_second"]) == (4, 3, 1)
    assert total["at_caseness"] == 2
    assert (total["recovered"], total["improved"], total["reliably_recovered"]) == (1, 1, 1)
    assert total["deteriorated"] == 1
    assert total["phq_change"] == pytest.approx((-10 + 2 - 1) / 3)
    assert total["gad_change"] == pytest.approx((-8 + 5 - 1) / 3)
    assert total["phq_ci_low"] < total["phq_change"] < total["phq_ci_high"]
    by_level = figures.outcomes(scope, figures.Names.for_scope(scope), at_discharge=False)[1]
    assert _row(by_level, "Partial hospitalization")["paired"] == 1


def test_it_counts_outcomes_at_discharge_only_for_episodes_discharged(
    cast: Cast, scope: Scope
) -> None:
    dana = cast.assigned_clinician.staff_member
    ended = admit(
        cast.iop, dana, START, discharged=START + dt.timedelta(days=40), reason="completed"
    )
    measure(ended, "phq9", at(START + dt.timedelta(days=1)), 20)
    measure(ended, "phq9", at(START + dt.timedelta(days=39)), 4)
    measure(ended, "gad7", at(START + dt.timedelta(days=1)), 15)
    measure(ended, "gad7", at(START + dt.timedelta(days=39)), 3)
    open_one = admit(cast.iop, dana, START)
    measure(open_one, "phq9", at(START + dt.timedelta(days=1)), 20)
    measure(open_one, "phq9", at(START + dt.timedelta(days=39)), 4)
    tables = figures.outcomes(scope, figures.Names.for_scope(scope), at_discharge=True)
    total = tables[0].total
    assert total is not None
    assert (total["with_baseline"], total["paired"], total["recovered"]) == (1, 1, 1)


def test_it_follows_the_onboarding_funnel(cast: Cast, scope: Scope) -> None:
    dana = cast.assigned_clinician.staff_member
    day = START + dt.timedelta(days=1)
    active = admit(cast.iop, dana, day)
    invite(active, at(day), at(day + dt.timedelta(days=2)))
    measure(active, "daily", at(day + dt.timedelta(days=3)))
    measure(active, "daily", at(day + dt.timedelta(days=20)))
    quiet = admit(cast.iop, dana, day)
    invite(quiet, at(day), at(day + dt.timedelta(days=4)))
    measure(quiet, "daily", at(day + dt.timedelta(days=5)))
    never = admit(cast.iop, dana, day)
    invite(never, at(day))
    admit(cast.iop, dana, day, with_account=False)
    admit(cast.iop, dana, START - dt.timedelta(days=30))  # admitted before: not in the funnel

    table = figures.funnel(scope, figures.Names.for_scope(scope))[0]
    total = table.total
    assert total is not None
    # Four here, and the cast's Maria and Tom (admitted 21 days ago, never invited).
    assert (total["admitted"], total["invited"], total["set_up"], total["checked_in"]) == (
        6,
        3,
        2,
        2,
    )
    assert (total["eligible"], total["active"]) == (2, 1)
    assert total["days_to_set_up"] == pytest.approx(3.0)  # median of 2 and 4 days
    assert total["days_to_check_in"] == pytest.approx(1.0)


def test_it_counts_sessions_reviewed_in_the_24_hours_before(cast: Cast, scope: Scope) -> None:
    dana = cast.assigned_clinician.staff_member
    uri = cast.unassigned_clinician.staff_member
    episode = admit(cast.iop, dana, START)
    starts = at(START + dt.timedelta(days=10), 15)
    session(episode, dana, starts)
    review_opened(episode, dana, starts - dt.timedelta(hours=2))
    later = starts + dt.timedelta(days=7)
    session(episode, dana, later)
    review_opened(episode, dana, later - dt.timedelta(hours=30))  # too early
    third = starts + dt.timedelta(days=14)
    session(episode, dana, third)
    review_opened(episode, uri, third - dt.timedelta(hours=1))  # someone else looked
    session(episode, dana, third + dt.timedelta(days=1), status=Attendance.Status.ABSENT)

    by_clinician = figures.review(scope, figures.Names.for_scope(scope))[1]
    row = _row(by_clinician, "Dana Staff")
    assert (row["held"], row["reviewed"]) == (3, 1)


def test_it_counts_attendance_and_unplanned_endings(cast: Cast, scope: Scope) -> None:
    dana = cast.assigned_clinician.staff_member
    episode = admit(cast.iop, dana, START)
    for i, status in enumerate(["attended", "late", "absent", "excused", "scheduled"]):
        session(episode, dana, at(START + dt.timedelta(days=i + 1)), status=status)
    admit(cast.iop, dana, START, discharged=START + dt.timedelta(days=20), reason="completed")
    admit(
        cast.iop, dana, START, discharged=START + dt.timedelta(days=9), reason="stopped_attending"
    )
    admit(cast.iop, dana, START, discharged=START + dt.timedelta(days=9), reason="against_advice")

    attendance, _by_clinician, dropout, _d2 = figures.attendance(
        scope, figures.Names.for_scope(scope)
    )
    assert attendance.total is not None and dropout.total is not None
    t = attendance.total
    assert (t["marked"], t["attended"], t["no_show"], t["excused"]) == (4, 2, 1, 1)
    d = dropout.total
    # The cast's own three patients were admitted 21 days ago: in the period.
    assert (d["admitted"], d["discharged"], d["planned"], d["unplanned"]) == (6, 3, 1, 2)
    retention = figures.retention(scope)
    two_weeks = _row(retention, "2")
    assert (two_weeks["observed"], two_weeks["retained"]) == (6, 4)


def test_it_counts_daily_check_ins_and_weekly_activity(cast: Cast, scope: Scope) -> None:
    from tether.checkins.models import ProgramInstrument

    ProgramInstrument.objects.create(
        organization=cast.organization,
        program=cast.iop,
        instrument_code="daily",
        schedule=ProgramInstrument.Schedule.DAILY,
    )
    dana = cast.assigned_clinician.staff_member
    ten_days = admit(
        cast.iop,
        dana,
        TODAY - dt.timedelta(days=19),
        discharged=TODAY - dt.timedelta(days=10),
        reason="completed",
    )
    for day in range(3):
        measure(ten_days, "daily", at(TODAY - dt.timedelta(days=19 - day)))
    table = figures.engagement(scope, figures.Names.for_scope(scope))[0]
    total = table.total
    assert total is not None
    # 10 days for the new episode, and the cast's Maria and Tom (in Adult IOP) 22 days each.
    assert total["days_due"] == 10 + 22 + 22
    assert total["days_done"] == 3
    weekly = figures.weekly(scope)
    assert sum(r["active"] for r in weekly.rows) >= 1


def test_it_leaves_out_a_part2_program_for_a_clinical_lead(cast: Cast) -> None:
    cast.adolescent_iop.treats_substance_use = True
    cast.adolescent_iop.save(update_fields=["treats_substance_use"])
    lead = cast.clinical_lead.staff_member
    scope = scope_from_query(lead, {}, today=TODAY)
    assert scope.program_ids == (cast.iop.pk,)
    assert scope.part2_left_out == ("Adolescent IOP",)


def test_an_episode_counts_with_its_current_primary_therapist(cast: Cast, scope: Scope) -> None:
    """Dana handed the episode over to Uri: Uri's now (an ended therapist is never
    chosen over a current one, whatever the database's order of empty end dates)."""
    dana = cast.assigned_clinician.staff_member
    uri = cast.unassigned_clinician.staff_member
    episode = admit(cast.iop, dana, START)
    CareTeamMember.objects.filter(episode=episode).update(ended_on=START + dt.timedelta(days=9))
    CareTeamMember.objects.create(
        organization_id=episode.organization_id,
        episode=episode,
        staff_member=uri,
        role=CareTeamMember.Role.PRIMARY_THERAPIST,
        started_on=START + dt.timedelta(days=10),
    )
    chosen = figures.scope_episodes(scope).get(pk=episode.pk)
    assert chosen.clinician == uri.pk  # type: ignore[attr-defined]
    dropout = figures.attendance(scope, figures.Names.for_scope(scope))[3]
    # Uri: this episode and the cast's Tom; Dana: the cast's Maria only.
    assert _row(dropout, "Uri Staff")["admitted"] == 2
    assert _row(dropout, "Dana Staff")["admitted"] == 1


def test_its_charts_draw_in_spanish_too() -> None:
    """A lead reading Tether in Spanish: the chart's points stay where SVG reads them
    ("30.5", not the Spanish "30,5", which would draw every point at 0)."""
    import re

    from django.template.loader import render_to_string
    from django.utils import translation

    from tether.reports.charts import Point, RateChart

    chart = RateChart(
        key="attendance",
        title="Attendance",
        description="2 of 2 points shown.",
        width=480,
        height=180,
        paths=("M36.0,80.5 L470.0,60.5",),
        points=(Point(36.0, 80.5, "Week 1: 60%"), Point(470.0, 60.5, "Week 2: 72%")),
        left=36,
        right=470,
        top=10,
        bottom=154,
        first_label="Week 1",
        last_label="Week 2",
    )
    with translation.override("es"):
        page = render_to_string("reports/includes/chart.html", {"chart": chart})
    assert re.findall(r'<circle cx="([^"]*)" cy="([^"]*)"', page) == [
        ("36.0", "80.5"),
        ("470.0", "60.5"),
    ]
