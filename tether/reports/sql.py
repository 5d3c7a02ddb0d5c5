"""One grouped query per table: the rows to count are a derived table (``base``,
built once: a CTE), and each grouping of the table (by program, by clinician, by level
of care, by week, the total) is a GROUP BY over it, joined with UNION ALL.

PostgreSQL materialises a CTE that is read more than once, so whatever is expensive
about the rows (the first and last measure of an episode, its primary therapist) is
computed once per row, never once per aggregate or per grouping. The same SQL runs on
SQLite (the demo); the few spellings that differ (median, time between two moments,
days between two dates, least / greatest) come from ``V``.

The SQL is assembled from compiled Django querysets (``compiled``: they carry their own
parameters, adapted by Django for the database) and fixed text in figures.py; every
value from outside goes in as a parameter.
"""

# The SQL here is fixed text and compiled querysets; every outside value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

Sql = tuple[str, list[Any]]
# Memory for each sort and hash of a report query (PostgreSQL's work_mem) instead of the
# server's default 4 MB: a year of a large program is hundreds of thousands of
# patient-weeks, whose sorts and derived tables spilled to disk. Only clinical leads and
# program admins open the reports.
WORK_MEM = "64MB"
# Parallel workers per statement: the web process turns them off for its pages (settings,
# TETHER_WEB_PROCESS); a report's aggregates over a year of a program are what they are
# for, so its transaction asks for PostgreSQL's default again.
PARALLEL_WORKERS = "2"


@contextmanager
def roomy() -> Iterator[None]:
    """Report queries that may use ``WORK_MEM`` and ``PARALLEL_WORKERS``: SET LOCAL, so
    they end with the transaction (the caller's, or one opened here)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('work_mem', %s, true),"
                " set_config('max_parallel_workers_per_gather', %s, true)",
                [WORK_MEM, PARALLEL_WORKERS],
            )
        yield


def compiled(queryset: QuerySet[Any]) -> Sql:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def date_param(value: Any) -> Any:
    return connection.ops.adapt_datefield_value(value)


def moment_param(value: Any) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


class V:
    """Spellings that differ between PostgreSQL and SQLite."""

    @staticmethod
    def postgres() -> bool:
        return connection.vendor == "postgresql"

    @classmethod
    def median(cls, expression: str, where: str = "") -> str:
        filtered = f" FILTER (WHERE {where})" if where else ""
        if cls.postgres():
            return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {expression}){filtered}"
        return f"tether_median({expression}){filtered}"

    @classmethod
    def seconds(cls, later: str, earlier: str) -> str:
        """Seconds from one moment to a later one (a number)."""
        if cls.postgres():
            return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION)"
        return f"((julianday({later}) - julianday({earlier})) * 86400.0)"

    @classmethod
    def days(cls, later: str, earlier: str) -> str:
        """Whole days from one date to a later one."""
        if cls.postgres():
            return f"({later} - {earlier})"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

    @classmethod
    def least(cls, *values: str) -> str:
        return f"{'LEAST' if cls.postgres() else 'MIN'}({', '.join(values)})"

    @classmethod
    def greatest(cls, *values: str) -> str:
        return f"{'GREATEST' if cls.postgres() else 'MAX'}({', '.join(values)})"


def count(where: str = "", *, distinct: str = "") -> str:
    inner = f"DISTINCT {distinct}" if distinct else "*"
    return f"COUNT({inner})" + (f" FILTER (WHERE {where})" if where else "")


def aggregate(function: str, expression: str, where: str = "") -> str:
    return f"{function}({expression})" + (f" FILTER (WHERE {where})" if where else "")


@dataclass
class Query:
    """``WITH <ctes>`` then one SELECT per grouping over ``source``."""

    ctes: list[tuple[str, Sql]]
    aggregates: dict[str, Sql]
    # grouping name → the columns of ``source`` it groups by ([]: the total)
    groupings: Mapping[str, Sequence[str]]
    source: str = "base"
    params_per_branch: list[Any] = field(default_factory=list)

    def sql(self) -> Sql:
        width = max(1, *(len(columns) for columns in self.groupings.values()))
        aggregate_sql = ", ".join(
            f"{text} AS {alias}" for alias, (text, _) in self.aggregates.items()
        )
        aggregate_params = [p for text, params in self.aggregates.values() for p in params]
        parts, params = [], []
        for name, text in self.ctes:
            parts.append(f"{name} AS ({text[0]})")
            params += text[1]
        branches = []
        for name, columns in self.groupings.items():
            keys = [f"CAST({c} AS TEXT)" for c in columns] + ["NULL"] * (width - len(columns))
            select = ", ".join(f"{key} AS g{i}" for i, key in enumerate(keys))
            group_by = f" GROUP BY {', '.join(columns)}" if columns else ""
            branches.append(
                f"SELECT '{name}' AS grouping_set, {select}, {aggregate_sql} "
                f"FROM {self.source}{group_by}"
            )
            params += aggregate_params
        return "WITH " + ", ".join(parts) + " " + " UNION ALL ".join(branches), params

    def run(self) -> dict[str, list[dict[str, Any]]]:
        """Rows by grouping name; each row has ``keys`` (the group's values, as text)
        and the aggregates."""
        text, params = self.sql()
        with connection.cursor() as cursor:
            cursor.execute(text, params)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        out: dict[str, list[dict[str, Any]]] = {name: [] for name in self.groupings}
        for values in rows:
            row = dict(zip(names, values, strict=True))
            grouping = row.pop("grouping_set")
            width = len(self.groupings[grouping])
            keys = tuple(row.pop(f"g{i}", None) for i in range(max(1, width)))[:width]
            for i in range(width, max(1, *(len(c) for c in self.groupings.values()))):
                row.pop(f"g{i}", None)
            out[grouping].append({"keys": keys, **row})
        return out
