"""A report table: named columns, one row per group, the total; and the small-number
rule applied before anything is shown or downloaded (``suppress``).

Counts are whole numbers of episodes, sessions, messages...; rates, medians and means
are derived from them. The CMS cell-size suppression policy publishes no cell with a
value from 1 to 10 (``../shared/reference/clinical.md``): such a count is suppressed
(primary suppression), and so is a second cell wherever one suppressed cell could be
worked out from the others (complementary suppression):

- across a row, where some counts add up to another (``Table.partitions``: attended +
  absent + excused = marked);
- down a column, where the rows add up to the total row (``Table.additive``);
- down a column within a block of rows, where some rows add up to another row
  (``Table.blocks``: each clinician's row of a week and the week's row).

A derived figure is hidden when a count it rests on is suppressed, or when it rests on
fewer than 11 (a rate of 1 in 4 would give both away; a median of 3 values is a value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SMALLEST_SHOWN = 11  # CMS: no cell from 1 to 10


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # count | rate (numerator / denominator) | median | mean | text | hours | days | minutes
    kind: str = "count"
    numerator: str = ""
    denominator: str = ""
    # For median / mean / hours / days / minutes: the count column of how many values.
    base: str = ""
    digits: int = 1


@dataclass
class Table:
    key: str
    title: str
    caption: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    # (parts..., whole): count columns where the parts add up to the whole in every row.
    partitions: list[tuple[str, ...]] = field(default_factory=list)
    # The count columns whose group rows add up to the total row (None: every count).
    additive: tuple[str, ...] | None = None
    # (part rows..., whole row): row indices where, in every count column, the parts add
    # up to the whole (or to at most the whole: the rule is applied the same way).
    blocks: list[tuple[int, ...]] = field(default_factory=list)
    note: str = ""
    # Filled by suppress(): the keys of the suppressed cells, per row index (-1: total).
    hidden: dict[int, set[str]] = field(default_factory=dict)

    def all_rows(self) -> list[tuple[int, dict[str, Any]]]:
        rows = list(enumerate(self.rows))
        if self.total is not None:
            rows.append((-1, self.total))
        return rows


def _is_small(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value < SMALLEST_SHOWN


def _smallest_other(cells: list[tuple[Any, Any]], hidden: set[Any]) -> Any | None:
    """Of (id, value) cells not hidden yet, the one to hide next: the smallest positive
    value (a zero hides nothing: it is known to be zero either way)."""
    candidates = [
        (value, index)
        for index, (cell_id, value) in enumerate(cells)
        if cell_id not in hidden and isinstance(value, int) and value > 0
    ]
    if not candidates:
        return None
    return cells[min(candidates)[1]][0]


def suppress(table: Table) -> Table:
    """Mark every cell that must not be shown (``table.hidden``); in place, returned."""
    counts = [c.key for c in table.columns if c.kind == "count"]
    hidden: set[tuple[int, str]] = set()
    for index, row in table.all_rows():
        for key in counts:
            if _is_small(row.get(key)):
                hidden.add((index, key))
    changed = True
    while changed:
        changed = False
        # Across rows: a partition with exactly one hidden cell gives it away.
        for index, row in table.all_rows():
            for group in table.partitions:
                cells = [((index, key), row.get(key)) for key in group]
                if sum(1 for cell_id, _ in cells if cell_id in hidden) == 1:
                    extra = _smallest_other(cells, hidden)
                    if extra is not None:
                        hidden.add(extra)
                        changed = True
        # Down columns: the rows add up to the total.
        if table.total is not None and table.rows:
            for key in counts if table.additive is None else table.additive:
                cells = [((i, key), r.get(key)) for i, r in table.all_rows()]
                if sum(1 for cell_id, _ in cells if cell_id in hidden) == 1:
                    extra = _smallest_other(cells, hidden)
                    if extra is not None:
                        hidden.add(extra)
                        changed = True
        # Down columns within a block of rows.
        for block in table.blocks:
            for key in counts:
                cells = [((i, key), table.rows[i].get(key)) for i in block]
                if sum(1 for cell_id, _ in cells if cell_id in hidden) == 1:
                    extra = _smallest_other(cells, hidden)
                    if extra is not None:
                        hidden.add(extra)
                        changed = True
    # Derived figures.
    for index, row in table.all_rows():
        for column in table.columns:
            if column.kind == "rate":
                parts = (column.numerator, column.denominator)
                if any((index, k) in hidden for k in parts) or not _enough(
                    row.get(column.denominator)
                ):
                    hidden.add((index, column.key))
            elif column.kind not in ("count", "text"):
                base = column.base
                if (index, base) in hidden or not _enough(row.get(base)):
                    hidden.add((index, column.key))
    table.hidden = {}
    for index, key in hidden:
        table.hidden.setdefault(index, set()).add(key)
    return table


def _enough(value: Any) -> bool:
    return isinstance(value, int) and value >= SMALLEST_SHOWN


SUPPRESSED = "*"  # what a suppressed cell shows (the page explains it)


def cell_text(table: Table, index: int, column: Column, row: dict[str, Any]) -> str:
    """The text of one cell, after suppression: a count, a percentage, a figure, "*"
    (suppressed) or "—" (nothing to show: no values at all)."""
    if column.key in table.hidden.get(index, set()):
        if column.kind != "count" and not row.get(column.base or column.denominator):
            return "—"  # nothing behind it at all: no figure, nothing hidden
        return SUPPRESSED
    value = row.get(column.key)
    if column.kind == "rate":
        numerator, denominator = row.get(column.numerator), row.get(column.denominator)
        if not denominator:
            return "—"
        return f"{100 * (numerator or 0) / denominator:.0f}%"
    if value is None:
        return "—"
    if column.kind == "count" or column.kind == "text":
        return str(value)
    return f"{float(value):.{column.digits}f}"
