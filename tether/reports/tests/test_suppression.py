"""The small-number rule: no published count from 1 to 10, and no hidden count that
can be worked out again from the other cells of its row or column."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.reports.tables import SUPPRESSED, Column, Table, cell_text, suppress

COLUMNS = [
    Column("group", "Group", "text"),
    Column("attended", "Attended"),
    Column("absent", "Absent"),
    Column("marked", "Marked"),
    Column("rate", "Rate", "rate", "attended", "marked"),
    Column("median", "Median", "hours", base="marked"),
]


def _table(rows: list[tuple[int, int]]) -> Table:
    body = [
        {"group": f"g{i}", "attended": a, "absent": b, "marked": a + b, "median": 2.0}
        for i, (a, b) in enumerate(rows)
    ]
    total = {
        "group": "All",
        "attended": sum(a for a, _ in rows),
        "absent": sum(b for _, b in rows),
        "marked": sum(a + b for a, b in rows),
        "median": 2.0,
    }
    return suppress(
        Table("t", "T", "T", COLUMNS, body, total, partitions=[("attended", "absent", "marked")])
    )


def _shown(table: Table) -> dict[tuple[int, str], str]:
    return {
        (index, column.key): cell_text(table, index, column, row)
        for index, row in table.all_rows()
        for column in table.columns
    }


def _recoverable(table: Table) -> list[tuple[int, str]]:
    """Hidden count cells that are the only hidden cell of a sum they belong to."""
    hidden = {(i, k) for i, keys in table.hidden.items() for k in keys}
    found = []
    counts = ("attended", "absent", "marked")
    for index, _row in table.all_rows():
        cells = [(index, k) for k in counts]
        if sum(c in hidden for c in cells) == 1:
            found.append(next(c for c in cells if c in hidden))
    for key in counts:
        cells = [(i, key) for i, _ in table.all_rows()]
        if sum(c in hidden for c in cells) == 1:
            found.append(next(c for c in cells if c in hidden))
    return found


@pytest.mark.parametrize("small", range(1, 11))
def test_it_hides_every_count_from_1_to_10(small: int) -> None:
    table = _table([(small, 40), (30, 25), (50, 60)])
    shown = _shown(table)
    assert shown[(0, "attended")] == SUPPRESSED
    assert str(small) not in {v for (i, k), v in shown.items() if (i, k) == (0, "attended")}
    # Its row and column each hide a second cell, so neither sum gives it away.
    assert _recoverable(table) == []
    # The rate it is part of is hidden too; the row's other figures stay.
    assert shown[(0, "rate")] == SUPPRESSED
    assert shown[(2, "attended")] == "50"


def test_it_shows_zero_and_eleven() -> None:
    table = _table([(0, 11), (30, 25)])
    shown = _shown(table)
    assert (shown[(0, "attended")], shown[(0, "absent")]) == ("0", "11")
    assert shown[(0, "rate")] == "0%"


def test_it_hides_derived_figures_resting_on_fewer_than_11() -> None:
    table = _table([(0, 0), (30, 25)])
    shown = _shown(table)
    assert shown[(0, "rate")] == "—"
    assert shown[(0, "median")] == "—"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=6))
def test_no_hidden_count_can_be_worked_out_from_totals(rows: list[tuple[int, int]]) -> None:
    table = _table(rows)
    shown = _shown(table)
    for (_index, key), text in shown.items():
        column = next(c for c in COLUMNS if c.key == key)
        if column.kind == "count" and text not in (SUPPRESSED,):
            assert not 1 <= int(text) <= 10
    assert _recoverable(table) == []


def _blocks(weeks: list[list[int]]) -> Table:
    """Week-by-clinician rows: per week, one row per clinician then the week's row."""
    columns = [Column("week", "Week", "text"), Column("group", "Clinician", "text")]
    columns.append(Column("active", "Active"))
    rows: list[dict[str, object]] = []
    blocks = []
    for w, values in enumerate(weeks):
        first = len(rows)
        rows += [{"week": str(w), "group": f"c{i}", "active": v} for i, v in enumerate(values)]
        rows.append({"week": str(w), "group": "All", "active": sum(values)})
        blocks.append(tuple(range(first, len(rows))))
    return suppress(Table("t", "T", "T", columns, rows, None, additive=(), blocks=blocks))


def test_a_week_total_cannot_give_away_one_clinicians_small_count() -> None:
    table = _blocks([[5, 40, 30], [20, 30, 12]])
    hidden = {(i, k) for i, keys in table.hidden.items() for k in keys}
    assert (0, "active") in hidden  # the 5
    assert (2, "active") in hidden  # and the next smallest of its week (30), not the total
    assert (3, "active") not in hidden  # the week's own row stays: it is published anyway
    assert not any(i >= 4 for i, _ in hidden)  # the second week has nothing small


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=5), min_size=1, max_size=4))
def test_no_clinicians_weekly_count_can_be_worked_out_from_the_week(
    weeks: list[list[int]],
) -> None:
    table = _blocks(weeks)
    hidden = {(i, k) for i, keys in table.hidden.items() for k in keys}
    for block in table.blocks:
        cells = [(i, "active") for i in block]
        assert sum(c in hidden for c in cells) != 1
    for index, row in table.all_rows():
        if (index, "active") not in hidden:
            assert not 1 <= int(row["active"]) <= 10
