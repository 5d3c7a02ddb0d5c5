"""Small SVG line charts of a rate over weeks (no JavaScript, no outside library):
the template ``reports/includes/chart.html`` draws them; the table beside each chart
holds the same figures. A suppressed point is a gap, never a guess."""

from __future__ import annotations

from dataclasses import dataclass

from tether.reports.tables import Column, Table

WIDTH, HEIGHT = 480, 180
LEFT, RIGHT, TOP, BOTTOM = 36, 10, 10, 26


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class RateChart:
    key: str
    title: str
    description: str
    width: int
    height: int
    paths: tuple[str, ...]
    points: tuple[Point, ...]
    left: int
    right: int
    top: int
    bottom: int
    first_label: str
    last_label: str


def rate_chart(table: Table, rate: Column, *, title: str) -> RateChart:
    """The rate column of a table, one point per row, in row order."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    count = len(table.rows)
    values: list[float | None] = []
    for index, row in enumerate(table.rows):
        denominator = row.get(rate.denominator)
        if rate.key in table.hidden.get(index, set()) or not denominator:
            values.append(None)
        else:
            values.append(100 * (row.get(rate.numerator) or 0) / denominator)
    points: list[Point] = []
    paths: list[str] = []
    segment: list[str] = []
    for index, value in enumerate(values):
        x = LEFT + (plot_width / 2 if count <= 1 else index * plot_width / (count - 1))
        if value is None:
            if segment:
                paths.append(" ".join(segment))
            segment = []
            continue
        y = TOP + plot_height * (1 - value / 100)
        segment.append(("M" if not segment else "L") + f"{x:.1f},{y:.1f}")
        points.append(
            Point(round(x, 1), round(y, 1), f"{table.rows[index]['group']}: {value:.0f}%")
        )
    if segment:
        paths.append(" ".join(segment))
    shown = [v for v in values if v is not None]
    if shown:
        description = (
            f"{len(shown)} of {count} points shown (the others are suppressed or empty); "
            f"from {shown[0]:.0f}% to {shown[-1]:.0f}%, lowest {min(shown):.0f}%, "
            f"highest {max(shown):.0f}%."
        )
    else:
        description = "No point can be shown: every value is suppressed or empty."
    return RateChart(
        key=table.key,
        title=title,
        description=description,
        width=WIDTH,
        height=HEIGHT,
        paths=tuple(paths),
        points=tuple(points),
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=HEIGHT - BOTTOM,
        first_label=str(table.rows[0]["group"]) if table.rows else "",
        last_label=str(table.rows[-1]["group"]) if table.rows else "",
    )
