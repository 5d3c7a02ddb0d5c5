"""Time the program reports (tether/reports) on a large data set, read-only.

    DEBUG=1 .venv/bin/python scripts/bench_reports.py \
        --database postgres://postgres@127.0.0.1:5432/tether_big

Runs inside one READ ONLY transaction (nothing is written; the page's own audit event
is left out). With ``--migrate`` the branch's pending migrations (a new index) are
applied inside that transaction first, which is then not read-only, and rolled back
with it at the end: the shared data set is left as it was. For the first clinical lead or program admin of the first organization
(or the organization's programs directly if it has none), it times each section of the
dashboard and counts its queries, for a year and for 13 weeks, then the whole page
(figures, suppression and template) beside the same page with no figures (a refused
filter: the staff base template, navigation and duty banner only), repeated --runs
times after one warm-up request (the first request of a process imports every URL
module); the median is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--migrate",
        action="store_true",
        help="apply this branch's pending migrations (an index, say) inside the "
        "transaction first; rolled back with everything else at the end",
    )
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tether.organizations.models import StaffMember
    from tether.patients.models import Episode, Patient
    from tether.reports import figures, views
    from tether.reports.scope import scope_from_query
    from tether.reports.tables import suppress

    with transaction.atomic():
        if args.migrate:
            from django.core.management import call_command

            started = time.perf_counter()
            call_command("migrate", verbosity=1, skip_checks=True)
            print(
                f"migrated in the transaction (rolled back at the end): "
                f"{time.perf_counter() - started:.0f} s"
            )
        else:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        staff = (
            StaffMember.objects.filter(
                role__in=[StaffMember.Role.CLINICAL_LEAD, StaffMember.Role.PROGRAM_ADMIN],
                is_active=True,
            )
            .select_related("user")
            .order_by("organization_id", "pk")
            .first()
        )
        if staff is None:
            raise SystemExit("no clinical lead or program admin in this database")
        today = timezone.localdate()
        print(
            f"patients {Patient.objects.count()}, episodes {Episode.objects.count()}, "
            f"viewer {staff.user.username} ({staff.role}), today {today}"
        )
        for days in (365, 91):
            query = {"start": (today - dt.timedelta(days=days - 1)).isoformat()}
            scope = scope_from_query(staff, query, today=today)
            print(
                f"\nperiod {scope.start} to {scope.end}; programs {scope.program_ids}; "
                f"left out (Part 2): {scope.part2_left_out}"
            )
            total_time, total_queries = 0.0, 0
            for section, _title in figures.SECTIONS:
                times = []
                for _ in range(args.runs):
                    with CaptureQueriesContext(connection) as queries:
                        started = time.perf_counter()
                        tables = [suppress(t) for t in figures.section_tables(scope, section)]
                        times.append(time.perf_counter() - started)
                median = statistics.median(times)
                total_time += median
                total_queries += len(queries.captured_queries)
                print(
                    f"  {section:15} {median * 1000:8.0f} ms  {len(queries.captured_queries):3} queries  "
                    f"{len(tables)} tables"
                )
            print(f"  {'all figures':15} {total_time * 1000:8.0f} ms  {total_queries:3} queries")

        factory = RequestFactory()

        def page(query: dict[str, str]) -> tuple[float, int, int]:
            request = factory.get("/staff/reports/", query)
            request.user = staff.user
            request.session = {}  # type: ignore[assignment]
            times = []
            with mock.patch.object(views, "_viewed"), mock.patch.object(views, "_refused"):
                for _ in range(args.runs):
                    with CaptureQueriesContext(connection) as queries:
                        started = time.perf_counter()
                        response = views.dashboard(request)
                        times.append(time.perf_counter() - started)
            return statistics.median(times), len(queries.captured_queries), response.status_code

        refused = {"start": "2026-01-02", "end": "2026-01-01"}  # refused: no figures
        page(refused)  # warm-up: the first request imports every URL module (seconds)
        full = page({"start": (today - dt.timedelta(days=364)).isoformat()})
        empty = page(refused)
        print(
            f"\nwhole page, a year: {full[0] * 1000:.0f} ms, {full[1]} queries (status {full[2]})"
        )
        print(
            f"same page, no figures: {empty[0] * 1000:.0f} ms, {empty[1]} queries (status {empty[2]})"
        )
        print(f"ratio: {full[0] / empty[0]:.0f}x")
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
