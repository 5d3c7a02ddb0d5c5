"""SQL aggregates the reports need that Django does not ship: the median.

PostgreSQL has ``percentile_cont(0.5) WITHIN GROUP (ORDER BY x)`` (numbers and
intervals). SQLite (the demo) has no median, so one is registered on each new
connection (``ReportsConfig.ready``); it runs inside SQLite's own aggregation, so the
figures are still computed by the database, one grouped query per table.
"""

from __future__ import annotations

import statistics
from typing import Any

from django.db.models import Aggregate, DurationField, FloatField
from django.db.models.expressions import Combinable

SQLITE_MEDIAN = "tether_median"


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def register_sqlite_median(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_MEDIAN, 1, _SqliteMedian)


class Median(Aggregate):
    """The median of an expression (a number, or a duration with ``duration=True``)."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    allow_distinct = False

    def __init__(self, expression: Combinable | str, *, duration: bool = False, **extra: Any):
        output = DurationField() if duration else FloatField()
        super().__init__(expression, output_field=output, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function=SQLITE_MEDIAN,
            template="%(function)s(%(expressions)s)%(filter)s",
            **extra_context,
        )
