"""Server-rendered SVG charts (no JavaScript): one line over time, severity bands
shaded behind it. The Jinja2 template ``checkins/chart.html`` draws the shapes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from tether.checkins.selectors import Series

WIDTH, HEIGHT = 320, 170
LEFT, RIGHT, TOP, BOTTOM = 30, 10, 10, 24
# Light fills, darker as severity rises; all pass contrast for the line drawn over them.
BAND_FILLS = ("#eef6ee", "#f7f4e6", "#fbeedd", "#f9e2d6", "#f5d6d6")


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    label: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    value: int
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    width: int
    height: int
    bands: tuple[Rect, ...]
    dots: tuple[Dot, ...]
    path: str
    ticks: tuple[Tick, ...]
    first_label: str
    last_label: str
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline_y: float = HEIGHT - BOTTOM


def chart_for(series: Series) -> Chart:
    top, bottom = TOP, HEIGHT - BOTTOM
    days: dict[dt.date, str] = {}

    def day(when: dt.datetime) -> str:
        """The day as "Dec 7", in the reader's language ("Dic 7"), once per date."""
        local = timezone.localtime(when).date()
        if local not in days:
            days[local] = formats.date_format(local, "M j")
        return days[local]

    low, high = 0, max(series.scale_max, 1)

    def y(value: float) -> float:
        return round(bottom - (value - low) / (high - low) * (bottom - top), 1)

    points = series.points
    span = len(points) - 1
    plot_width = WIDTH - RIGHT - LEFT

    def x(index: int) -> float:
        return round(LEFT + (plot_width / 2 if span == 0 else index * plot_width / span), 1)

    bands = []
    if series.item is None:
        for index, band in enumerate(series.spec.bands):
            y_top = y(min(band.maximum + 0.5, high))
            y_bottom = y(max(band.minimum - 0.5, low))
            bands.append(
                Rect(
                    LEFT,
                    y_top,
                    plot_width,
                    round(y_bottom - y_top, 1),
                    BAND_FILLS[min(index, len(BAND_FILLS) - 1)],
                    f"{band.label} {band.minimum} to {band.maximum}",
                )
            )
    dots = tuple(
        Dot(x(i), y(p.value or 0), p.value or 0, f"{day(p.when)}: {p.value}")
        for i, p in enumerate(points)
    )
    path = " ".join(("M" if i == 0 else "L") + f"{d.x},{d.y}" for i, d in enumerate(dots))
    if points:
        description = _(
            "%(count)s results from %(first_date)s to %(last_date)s. First %(first)s, "
            "latest %(last)s, on a scale of %(low)s to %(high)s."
        ) % {
            "count": len(points),
            "first_date": day(points[0].when),
            "last_date": day(points[-1].when),
            "first": points[0].value,
            "last": points[-1].value,
            "low": low,
            "high": high,
        }
    else:
        description = _("No results yet.")
    ticks = tuple(Tick(y(v), str(v)) for v in sorted({low, high // 2, high}))
    return Chart(
        key=series.key,
        title=_("%(name)s over time") % {"name": series.title},
        description=description,
        width=WIDTH,
        height=HEIGHT,
        bands=tuple(bands),
        dots=dots,
        path=path,
        ticks=ticks,
        first_label=day(points[0].when) if points else "",
        last_label=day(points[-1].when) if points else "",
    )
