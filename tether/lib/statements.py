"""Statements compiled once per process, their values bound on every call.

Some reads run on every page (the staff duty banner) or are the heart of one (the
pre-session review's counts). Their SQL never changes shape from one request to the
next, only their values (the patient, the staff member, the moment), yet Django builds
and compiles the queryset again each time: on this project's pages that is several
milliseconds of Python per statement, more than PostgreSQL takes to run it
(docs/BENCHMARKS.md, "Pages, fourth pass"). A prepared statement, in other words, kept
in the process.

``bound(key, build, values)`` returns the SQL and parameters of ``build(values)``. The
first call for a key builds the statement twice, with two sets of stand-in values,
and keeps it only if the two compiled statements have the same text and differ in
exactly the parameters that hold the stand-ins, each passed through unchanged (so no
parameter is derived from a value in Python, which would otherwise be kept stale). A
value the statement does not use (a user's shape that never reads it: the front desk's
moment) is simply not bound; one it uses changed would show as a parameter that differs
between the two builds. Any other outcome, or a database that converts the values
(SQLite), and the statement is simply built every time, as before. A kept statement's
constants (a status, a category) are written into its text and only its values stay
parameters; run by ``rows``, ``instances`` or ``executed``, those are bound by the
server (``_server_bound``), so PostgreSQL plans it without estimating each of them.
``key`` must name everything else the statement's shape depends on (a role, a setting,
which filters are set, how many values a list of strings has; the active time zone is
added here): the stand-ins are never empty, so a build that branches on a value's truth
would be kept in the stand-ins' shape. The values themselves never go in it.

``instances(key, model, make, values)`` does the same for a queryset of model instances
with annotations: ``model.objects.raw`` on the kept SQL, the model's fields converted by
``raw`` and the annotations with the converters Django's compiler would use.

A list of ints is bound as one array parameter, ``AnyOf(F("pk"), ids)`` (``= ANY(%s)``
on PostgreSQL), so a statement's shape does not change with the list's length.

``rows(key, make, values)`` does the same for a ``values_list`` queryset and returns its
rows as the queryset would, each column converted from the database value with the
converters Django's compiler would apply (a count, a truncated date, an encrypted field).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.models import Lookup, Model, QuerySet
from django.db.models.lookups import In
from django.utils import timezone
from django.utils.dateparse import parse_datetime

_CACHE_SIZE = 256
# key -> (sql, the value bound at each of its placeholders), or None: build that
# statement every time. The statement's constants are written into its text (``_inline``).
_kept: OrderedDict[Hashable, tuple[str, list[str]] | None] = OrderedDict()
_lock = threading.Lock()

Build = Callable[[Mapping[str, Any]], tuple[str, list[Any] | tuple[Any, ...]]]
Make = Callable[[Mapping[str, Any]], "QuerySet[Any, Any]"]
# key -> the number of columns ``rows`` returns and how it converts each (``_columns``).
_row_columns: dict[Hashable, tuple[int, list[tuple[int, list[Any], Any]]]] = {}


def _stand_ins(values: Mapping[str, Any], series: int) -> dict[str, Any]:
    """Values of the same types as ``values``, distinct by name and by ``series`` (1 or 2).
    They are only compiled, never run: an int is small enough for any integer column
    (Django compiles an out-of-range value as a condition that matches nothing), and one
    that happens to equal a constant of the statement only stops it being kept
    (``_prepare``)."""
    made: dict[str, Any] = {}
    for index, (name, value) in enumerate(values.items()):
        n = 7919 * series + index
        if isinstance(value, list):
            if not all(isinstance(item, int) and not isinstance(item, bool) for item in value):
                raise TypeError(f"{name}: only lists of ints can be bound")
            made[name] = [9_000_000_000_000 + n]
            continue
        if isinstance(value, bool) or value is None:
            raise TypeError(f"{name}: only ints, strings, dates and aware datetimes can be bound")
        if isinstance(value, str):
            made[name] = f"tether stand-in {n}"
        elif isinstance(value, int):
            made[name] = n  # 7,919 to about 16,000: within a small integer's range
        elif isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise TypeError(f"{name}: a naive datetime")
            made[name] = dt.datetime(1903, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n)
        elif isinstance(value, dt.date):
            made[name] = dt.date(1903, 1, 1) + dt.timedelta(days=n)
        else:
            raise TypeError(f"{name}: only ints, strings, dates and aware datetimes can be bound")
    return made


def _positions(params: list[Any], stand_ins: Mapping[str, Any]) -> dict[str, list[int]]:
    """Where each stand-in is passed unchanged among ``params`` (nowhere: not used, or
    changed on the way, which ``_prepare`` then sees as a parameter that differs)."""
    found: dict[str, list[int]] = {name: [] for name in stand_ins}
    for position, param in enumerate(params):
        for name, stand_in in stand_ins.items():
            if type(param) is type(stand_in) and param == stand_in:
                found[name].append(position)
    return found


_PLACEHOLDER = re.compile(r"%%|%s")


def _inline(sql: str, params: list[Any], bound_at: dict[int, str]) -> tuple[str, list[str]]:
    """``sql`` with each parameter that is not a value (a constant of the statement: a
    status, a category, a time zone) written in as a literal, as psycopg's client-side
    binding would send it, and the name of the value at each remaining placeholder.
    Only the values are then parameters: PostgreSQL can match a partial index's
    condition (``status = 'complete'``) in a plan made without the values, which it
    cannot for a parameter (``_server_bound``)."""
    from psycopg import sql as psycopg_sql

    connection.ensure_connection()
    raw = connection.connection
    names: list[str] = []
    position = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal position
        if match.group() == "%%":
            return "%%"
        at, position = position, position + 1
        if at in bound_at:
            names.append(bound_at[at])
            return "%s"
        return psycopg_sql.Literal(params[at]).as_string(raw).replace("%", "%%")

    text = _PLACEHOLDER.sub(replace, sql)
    if position != len(params):
        raise ValueError("the statement's placeholders and parameters differ in number")
    return text, names


def _prepare(build: Build, values: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    first, second = _stand_ins(values, 1), _stand_ins(values, 2)
    if connection.vendor != "postgresql":
        return None  # SQLite receives dates and moments as text: not worth the care.
    sql_1, params_1 = build(first)
    sql_2, params_2 = build(second)
    params_1, params_2 = list(params_1), list(params_2)
    if sql_1 != sql_2 or len(params_1) != len(params_2):
        return None
    positions = _positions(params_1, first)
    if positions != _positions(params_2, second):
        return None
    bound_at = {p: name for name, places in positions.items() for p in places}
    for position, (one, two) in enumerate(zip(params_1, params_2, strict=True)):
        if position not in bound_at and one != two:
            return None  # a parameter computed from a value: it would be kept stale
    return _inline(sql_1, params_1, bound_at)


def bound(key: Hashable, build: Build, values: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """The SQL and parameters of ``build(values)``, compiled once per process and key."""
    sql, params, _kept_now = _bound(key, build, values)
    return sql, params


def _bound(key: Hashable, build: Build, values: Mapping[str, Any]) -> tuple[str, list[Any], bool]:
    # The active time zone is part of every shape: a ``__date`` lookup compiles it in.
    key = (key, timezone.get_current_timezone_name())
    with _lock:
        known = key in _kept
        kept = _kept.get(key)
        if known:
            _kept.move_to_end(key)
    if not known:
        kept = _prepare(build, values)
        with _lock:
            _kept[key] = kept
            while len(_kept) > _CACHE_SIZE:
                _kept.popitem(last=False)
    if kept is None:
        sql, params = build(values)
        return sql, list(params), False
    sql, names = kept
    return sql, [values[name] for name in names], True


@contextmanager
def executed(
    key: Hashable, build: Build, values: Mapping[str, Any], *, server_bound: bool = True
) -> Iterator[Any]:
    """A cursor that has run ``build(values)``'s statement, kept as ``bound`` keeps it
    and, when kept, its values bound by the server (``_server_bound``; not with
    ``server_bound=False``, as ``rows``)."""
    sql, params, kept = _bound(key, build, values)
    with _server_bound(kept and server_bound), connection.cursor() as cursor:
        cursor.execute(sql, params)
        yield cursor


@contextmanager
def _server_bound(kept: bool = True) -> Iterator[None]:
    """Inside this block the connection's cursors send their values apart from the
    statement's text (psycopg's server-side binding: PostgreSQL's extended protocol)
    instead of quoting them into it, so PostgreSQL plans the statement without looking
    at them: the web process asks for that plan (``plan_cache_mode=force_generic_plan``
    in settings; it applies to such statements only). A kept statement's constants are
    in its text (``_inline``), so the plan still sees those and their partial indexes;
    what it no longer does is estimate each element of a list of ids, which was most of
    the planning of the flag queue's small statements (the clinician's queue's statements
    17.6 -> 8.7 ms: docs/BENCHMARKS.md, "Pages, twelfth pass"). Statements built every
    time, and everything else, keep the client-side binding.

    The statement is also prepared (psycopg's ``prepare_threshold`` 0 in this block):
    PostgreSQL plans it once per connection (the web process keeps its connections,
    ``DATABASE_CONN_MAX_AGE``) and every later request runs that plan. Planning was most
    of a small kept statement's time (the staff duty banner's: ~1.2 of 1.5 ms). Behind a
    connection pooler in transaction mode, prepared statements need its support
    (PgBouncer 1.21 or later, ``max_prepared_statements``): docs/OPERATIONS.md."""
    if not kept or connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    previous, threshold = raw.cursor_factory, raw.prepare_threshold
    raw.cursor_factory = ServerBindingCursor
    raw.prepare_threshold = 0
    try:
        yield
    finally:
        raw.cursor_factory, raw.prepare_threshold = previous, threshold


def _converters(queryset: QuerySet[Any, Any]) -> list[Any]:
    """(alias, converters, expression) of each annotation ``queryset`` selects that
    Django's compiler would convert."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    compiler.setup_query()
    annotations = queryset.query.annotation_select
    columns = [(alias, column) for column, _sql, alias in compiler.select if alias in annotations]
    found = compiler.get_converters([column for _alias, column in columns])
    return [(columns[i][0], functions, expression) for i, (functions, expression) in found.items()]


# key -> how ``instances`` converts each annotation, as Django's compiler would: (name,
# converters, expression) for those that have any.
_annotation_converters: dict[Hashable, list[tuple[str, list[Any], Any]]] = {}


def instances[M: Model](
    key: Hashable,
    model: type[M],
    make: Make,
    values: Mapping[str, Any],
    *,
    window: tuple[int, int] | None = None,
    server_bound: bool = True,
) -> list[M]:
    """The instances (with their annotations) of the queryset ``make(values)`` of
    ``model``, its statement compiled once per process and key (PostgreSQL; elsewhere
    the queryset itself). The model's fields are converted by ``raw``, the annotations
    here with the converters Django's compiler would apply. ``window``: only the rows
    from ``start`` up to ``stop`` (``make(values)[start:stop]``), bound as values: Django
    writes a slice's bounds into the text, which would make each page its own statement.
    ``server_bound=False``: as ``rows``."""
    if connection.vendor != "postgresql":
        found_here = make(values)
        return list(found_here if window is None else found_here[window[0] : window[1]])
    with _lock:
        converters = _annotation_converters.get(key)
    if converters is None:
        converters = _converters(make(values))
        with _lock:
            _annotation_converters[key] = converters

    def build(values: Mapping[str, Any]) -> tuple[str, list[Any] | tuple[Any, ...]]:
        sql, params = make(values).query.sql_with_params()
        if window is None:
            return sql, params
        return f"{sql} LIMIT %s OFFSET %s", [*params, values["_limit"], values["_offset"]]

    if window is not None:
        start, stop = window
        values = {**values, "_limit": max(stop - start, 0), "_offset": start}
    sql, params, kept = _bound(("windowed", key) if window else key, build, values)
    with _server_bound(kept and server_bound):
        found = list(model._default_manager.raw(sql, params))
    for name, functions, expression in converters:
        for instance in found:
            value = getattr(instance, name)
            for function in functions:
                value = function(value, expression, connection)
            setattr(instance, name, value)
    return found


class AnyOf(Lookup):
    """``AnyOf(F("pk"), ids)``: the column is one of ``ids``, a list of ints, bound as one
    array parameter on PostgreSQL (``= ANY(%s)``) so the statement's text does not depend
    on how many there are; an ``IN`` list elsewhere. ``ids`` may also be an array
    expression (``ArraySubquery``, PostgreSQL only)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:
        return "%s", [list(value)]

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        if hasattr(self.rhs, "as_sql"):
            # An array expression (``ArraySubquery``: PostgreSQL only), compiled as is.
            lhs, lhs_params = self.process_lhs(compiler, connection)
            rhs, rhs_params = self.process_rhs(compiler, connection)
            return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]
        if connection.vendor != "postgresql":
            return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def rows(
    key: Hashable, make: Make, values: Mapping[str, Any], *, server_bound: bool = True
) -> list[tuple[Any, ...]]:
    """The rows of the ``values_list`` queryset ``make(values)``, its statement compiled
    once per process and key (PostgreSQL; elsewhere the queryset itself). Each column
    Django converts from the database value (a count, a truncated date, an encrypted
    field) is converted here with the converters its compiler would apply.
    ``server_bound=False``: the values quoted into the text as before, for a statement
    whose best plan depends on them (``_server_bound``)."""
    if connection.vendor != "postgresql":
        return [tuple(row) for row in make(values)]
    with _lock:
        columns = _row_columns.get(key)
    if columns is None:
        columns = _columns(make(values))
        with _lock:
            _row_columns[key] = columns
    count, converters = columns
    sql, params, kept = _bound(key, lambda v: make(v).query.sql_with_params(), values)
    with _server_bound(kept and server_bound), connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    if not converters:
        return [tuple(row[:count]) for row in found]
    converted = []
    for row in found:
        values_of_row = list(row[:count])
        for position, functions, expression in converters:
            value = values_of_row[position]
            for function in functions:
                value = function(value, expression, connection)
            values_of_row[position] = value
        converted.append(tuple(values_of_row))
    return converted


def _columns(queryset: QuerySet[Any, Any]) -> tuple[int, list[tuple[int, list[Any], Any]]]:
    """How many columns a ``values_list`` queryset's rows hold, and (position,
    converters, expression) of each that Django's compiler converts (as its
    ``results_iter``: the rows in the statement's column order, extra columns cut)."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    compiler.setup_query()
    fields = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
    found = compiler.get_converters(fields)
    return compiler.col_count, [
        (position, functions, expression) for position, (functions, expression) in found.items()
    ]


def moment(value: Any) -> dt.datetime | None:
    """A moment read by raw SQL as Django would give it: SQLite hands back UTC text, or
    a naive UTC datetime."""
    if value is None:
        return None
    parsed = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a moment: {value!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, dt.UTC)


def forget() -> None:
    """Drop every kept statement (tests that change a statement's shape by settings)."""
    with _lock:
        _kept.clear()
        _row_columns.clear()
        _annotation_converters.clear()
