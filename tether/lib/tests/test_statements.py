"""Statements compiled once per process (tether.lib.statements): a kept statement gives
the same answer as building it again, and a statement that cannot be kept safely (a
parameter computed from a value) is built every time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from tether.accounts.models import User
from tether.lib import statements
from tether.lib.tests.encrypted_models import (  # noqa: F401 - the fixture is used by name
    EncryptedNote,
    encrypted_note_table,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    statements.forget()
    yield
    statements.forget()


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _joined_after(values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    return (
        User.objects.filter(date_joined__gte=values["since"], pk__gte=values["first"])
        .order_by("pk")
        .values_list("username")
        .query.sql_with_params()
    )


def _make_users() -> list[User]:
    now = timezone.now()
    users = []
    for days in (1, 5, 9):
        user = User.objects.create_user(username=f"s{days}", password="x" * 12)
        user.date_joined = now - dt.timedelta(days=days)
        user.save(update_fields=["date_joined"])
        users.append(user)
    return users


def test_a_kept_statement_answers_as_a_fresh_one_for_every_value() -> None:
    users = _make_users()
    now = timezone.now()
    kept = connection.vendor == "postgresql"
    for days in (2, 6, 10):
        values = {"since": now - dt.timedelta(days=days), "first": users[0].pk}
        sql, params = statements.bound("test.joined", _joined_after, values)
        fresh_sql, fresh_params = _joined_after(values)
        assert _rows(sql, params) == _rows(fresh_sql, list(fresh_params))
    expected = {1: ["s1"], 5: ["s1", "s5"], 9: ["s1", "s5", "s9"]}
    for days, names in expected.items():
        values = {"since": now - dt.timedelta(days=days, hours=1), "first": users[0].pk}
        sql, params = statements.bound("test.joined", _joined_after, values)
        assert [name for (name,) in _rows(sql, params)] == names
    key = ("test.joined", timezone.get_current_timezone_name())
    assert (statements._kept[key] is not None) is kept


def test_a_parameter_computed_from_a_value_is_never_kept_stale() -> None:
    _make_users()
    calls = []

    def derived(values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        calls.append(values)
        # The window's start is computed here, not bound: it must not be kept.
        start = values["today"] - dt.timedelta(days=3)
        return (
            User.objects.filter(date_joined__date__gte=start)
            .values_list("username")
            .query.sql_with_params()
        )

    today = timezone.localdate()
    first = statements.bound("test.derived", derived, {"today": today})
    later = statements.bound("test.derived", derived, {"today": today + dt.timedelta(days=7)})
    assert first != later
    assert [name for (name,) in _rows(*first)] == ["s1"]
    assert _rows(*later) == []
    assert statements._kept[("test.derived", timezone.get_current_timezone_name())] is None


def test_the_time_zone_is_part_of_the_shape() -> None:
    _make_users()

    def on_day(values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        return (
            User.objects.filter(date_joined__date__lte=values["day"])
            .values_list("username")
            .query.sql_with_params()
        )

    day = timezone.localdate()
    with timezone.override("America/New_York"):
        statements.bound("test.tz", on_day, {"day": day})
    with timezone.override("Pacific/Auckland"):
        statements.bound("test.tz", on_day, {"day": day})
    assert {key[1] for key in statements._kept if isinstance(key, tuple)} == {
        "America/New_York",
        "Pacific/Auckland",
    }


def test_a_string_is_bound_as_it_is_and_a_pattern_made_from_it_is_never_kept() -> None:
    _make_users()

    def named(values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        return (
            User.objects.filter(username=values["name"])
            .values_list("username")
            .query.sql_with_params()
        )

    def starting(values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        # The ORM escapes the string and adds "%": a parameter made from the value.
        return (
            User.objects.filter(username__startswith=values["name"])
            .values_list("username")
            .query.sql_with_params()
        )

    for name in ("s1", "s5", "nobody"):
        assert _rows(*statements.bound("test.named", named, {"name": name})) == (
            [(name,)] if name != "nobody" else []
        )
        assert _rows(*statements.bound("test.starting", starting, {"name": name})) == (
            [(name,)] if name != "nobody" else []
        )
    zone = timezone.get_current_timezone_name()
    assert (statements._kept[("test.named", zone)] is not None) is (
        connection.vendor == "postgresql"
    )
    assert statements._kept[("test.starting", zone)] is None


def test_a_value_the_statement_does_not_use_is_not_bound_and_it_is_still_kept() -> None:
    users = _make_users()

    def since_only(values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        # ``first`` is given (another shape of the caller would use it) but never read.
        return (
            User.objects.filter(date_joined__gte=values["since"])
            .order_by("pk")
            .values_list("username")
            .query.sql_with_params()
        )

    now = timezone.now()
    for days, names in ((2, ["s1"]), (6, ["s1", "s5"])):
        values = {"since": now - dt.timedelta(days=days), "first": users[days // 3].pk}
        assert [n for (n,) in _rows(*statements.bound("test.unused", since_only, values))] == names
    kept = statements._kept[("test.unused", timezone.get_current_timezone_name())]
    assert (kept is not None) is (connection.vendor == "postgresql")
    if kept is not None:
        assert kept[1] == ["since"]  # (the one placeholder left: ``first`` not bound)


def _named_like(values: Mapping[str, Any]) -> Any:
    # A constant with a quote, a percent sign and a backslash, written into the text.
    return (
        User.objects.filter(Q(username=values["start"]) | Q(last_name="O'Hara 100% \\ sure"))
        .order_by("username")
        .values_list("username")
    )


def test_a_kept_statement_has_its_constants_written_in_and_only_its_values_bound() -> None:
    User.objects.create_user(username="ada", password="x" * 12)
    User.objects.create_user(username="kim", password="x" * 12, last_name="O'Hara 100% \\ sure")
    User.objects.create_user(username="bea", password="x" * 12, last_name="O'Hara")
    for start, names in (("ada", ["ada", "kim"]), ("bea", ["bea", "kim"]), ("z", ["kim"])):
        assert statements.rows("test.named_like", _named_like, {"start": start}) == [
            (name,) for name in names
        ]
        assert statements.rows("test.named_like", _named_like, {"start": start}) == [
            tuple(row) for row in _named_like({"start": start})
        ]
    if connection.vendor == "postgresql":
        kept = statements._kept[("test.named_like", timezone.get_current_timezone_name())]
        assert kept is not None
        sql, names = kept
        assert names == ["start"] and sql.count("%s") == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side binding: PostgreSQL")
def test_a_kept_statement_has_its_values_bound_by_the_server_and_one_built_every_time_not() -> None:
    import psycopg

    client_side: list[bool] = []

    def seen(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        client_side.append(isinstance(context["cursor"].cursor, psycopg.ClientCursor))
        return execute(sql, params, many, context)

    def derived(values: Mapping[str, Any]) -> Any:
        # A parameter computed from the value: never kept.
        since = values["today"] - dt.timedelta(days=1)
        return User.objects.filter(date_joined__date__gte=since).values_list("username")

    with connection.execute_wrapper(seen):
        for name in ("a", "b"):
            statements.rows("test.named_like", _named_like, {"start": name})
        for days in (1, 2):
            today = timezone.localdate() - dt.timedelta(days=days)
            statements.rows("test.derived_rows", derived, {"today": today})
        list(User.objects.values_list("username"))
        # Kept, but asked to keep the client-side binding (a plan that needs the values).
        statements.rows("test.named_like", _named_like, {"start": "c"}, server_bound=False)
    assert client_side == [False, False, True, True, True, True]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_a_kept_statement_is_prepared_once_per_connection_and_nothing_else_is() -> None:
    _make_users()

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    before = prepared()
    for first in ("a", "s", "z"):
        found = statements.rows("test.named_like", _named_like, {"start": first})
        assert found == list(_named_like({"start": first}))
    list(User.objects.filter(username__gte="b").values_list("username"))
    statements.rows("test.named_like", _named_like, {"start": "c"}, server_bound=False)
    new = [sql for sql in prepared() if sql not in before]
    # The kept statement once (planned once, then run with each value); not the queryset
    # built every time, nor the kept statement run with its values quoted in.
    assert len(new) == 1 and "O''Hara" in new[0]


def test_only_plain_values_can_be_bound() -> None:
    with pytest.raises(TypeError):
        statements.bound(
            "test.bad",
            _joined_after,
            {"since": dt.datetime(2026, 1, 1), "first": 1},  # noqa: DTZ001 - the point
        )


def test_rows_answers_as_the_queryset_and_keeps_its_statement() -> None:
    users = _make_users()
    now = timezone.now()

    def make(values: Mapping[str, Any]) -> Any:
        return (
            User.objects.filter(date_joined__gte=values["since"])
            .order_by("pk")
            .values_list("username", "date_joined")
        )

    for days in (2, 6, 10):
        values = {"since": now - dt.timedelta(days=days)}
        assert statements.rows("test.rows", make, values) == list(make(values))
    names = [name for name, _joined in statements.rows("test.rows", make, {"since": now})]
    assert names == []
    assert [u.username for u in users] == ["s1", "s5", "s9"]
    key = ("test.rows", timezone.get_current_timezone_name())
    assert (statements._kept.get(key) is not None) is (connection.vendor == "postgresql")


@pytest.mark.usefixtures("encrypted_note_table")
def test_rows_converts_each_column_as_the_queryset_would() -> None:
    from django.db.models import Count, DateField, Q
    from django.db.models.functions import TruncWeek

    note = EncryptedNote.objects.create(title="t", body="a private line")

    def make(values: Mapping[str, Any]) -> Any:
        return EncryptedNote.objects.filter(pk__gte=values["first"]).values_list("body")

    # The encrypted body is decrypted by its field: never read as the stored token.
    assert statements.rows("test.encrypted", make, {"first": note.pk}) == [("a private line",)]
    _make_users()

    def weeks(values: Mapping[str, Any]) -> Any:
        # A count (Django makes it an int, 0 for none) and a week as a date.
        return (
            User.objects.filter(pk__gte=values["first"])
            .annotate(week=TruncWeek("date_joined", output_field=DateField()))
            .values("week")
            .annotate(n=Count("pk"), active=Count("pk", filter=Q(is_active=False)))
            .order_by("week")
            .values_list("week", "n", "active")
        )

    first = User.objects.order_by("pk").values_list("pk", flat=True)[0]
    found = statements.rows("test.weeks", weeks, {"first": first})
    assert found == list(weeks({"first": first})) and found
    assert all(
        isinstance(week, dt.date) and not isinstance(week, dt.datetime) for week, *_ in found
    )
    assert statements.rows("test.weeks", weeks, {"first": first + 10_000}) == []
    kept = connection.vendor == "postgresql"
    zone = timezone.get_current_timezone_name()
    assert (statements._kept.get(("test.encrypted", zone)) is not None) is kept
    assert (statements._kept.get(("test.weeks", zone)) is not None) is kept


def test_instances_bind_a_list_of_any_length_and_answer_as_the_queryset() -> None:
    from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    users = _make_users()

    def make(values: Mapping[str, Any]) -> Any:
        joined_before = (
            User.objects.filter(date_joined__lt=OuterRef("date_joined"))
            .order_by()
            .values("is_active")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        )
        return (
            User.objects.filter(statements.AnyOf(F("pk"), values["ids"]))
            .annotate(
                earlier=Coalesce(Subquery(joined_before, output_field=IntegerField()), Value(0))
            )
            .order_by("pk")
        )

    for chosen in ([users[0]], users, [], users[1:]):
        values = {"ids": [u.pk for u in chosen]}
        found = statements.instances("test.instances", User, make, values)
        expected = list(make(values))
        assert [_earlier(u) for u in found] == [_earlier(u) for u in expected]
        assert [u.username for u in found] == [u.username for u in chosen]
    key = ("test.instances", timezone.get_current_timezone_name())
    assert (statements._kept.get(key) is not None) is (connection.vendor == "postgresql")
    # The oldest account was joined before the two others (the annotation, converted).
    every = statements.instances("test.instances", User, make, {"ids": [u.pk for u in users]})
    by_name = {username: earlier for _pk, username, earlier in map(_earlier, every)}
    assert by_name == {"s9": 0, "s5": 1, "s1": 2}


def _earlier(user: User) -> tuple[int, str, int]:
    return user.pk, user.username, user.earlier  # type: ignore[attr-defined]
