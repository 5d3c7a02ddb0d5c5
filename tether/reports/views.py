"""The reports pages: /staff/reports/ and one CSV per table. Clinical leads and program
admins only; aggregates only, after the small-number rule; every view audited as a
report view (purpose: health-care operations), every refusal audited as denied."""

from __future__ import annotations

import csv
import io

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tether.organizations.models import StaffMember
from tether.privacy import audit
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.reports import figures
from tether.reports.charts import rate_chart
from tether.reports.scope import (
    Scope,
    ScopeRefused,
    check_not_isolating,
    may_view_reports,
    scope_from_query,
    viewable_programs,
)
from tether.reports.tables import Table, cell_text, suppress
from tether.staff.access import staff_required

REPORT_VIEW = "reports.dashboard"
# A longer table (the week-by-week trend of every clinician of a large program: weeks
# times clinicians) is offered as its CSV only; narrowed to one clinician it fits.
ROWS_ON_THE_PAGE = 400


def _staff(request: HttpRequest) -> StaffMember:
    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]
    if not may_view_reports(staff):
        _refused(request)
        raise Http404
    return staff


def _refused(request: HttpRequest) -> None:
    audit.record_denied(
        request,
        patient=None,
        category=Category.GENERAL,
        action=Action.VIEW,
        purpose=Purpose.OPERATIONS,
    )


def _viewed(request: HttpRequest, what: str) -> None:
    """One audit event per report view: no patient (aggregates only), what was shown."""
    event = audit.event_for(
        request=request,
        actor=request.user,  # type: ignore[arg-type]
        patient=None,
        action=Action.VIEW,
        category=Category.GENERAL,
        purpose=Purpose.OPERATIONS,
        object_type=REPORT_VIEW,
    )
    event.object_id = what[:64]
    audit.append_many([event])


def _scope(request: HttpRequest, staff: StaffMember) -> Scope:
    scope = scope_from_query(staff, {k: str(v) for k, v in request.GET.items()})
    check_not_isolating(scope)
    return scope


def _rows(table: Table) -> list[dict[str, object]]:
    return [
        {
            "is_total": index == -1,
            "cells": [cell_text(table, index, column, row) for column in table.columns],
        }
        for index, row in table.all_rows()
    ]


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    counted, left_out = viewable_programs(staff)
    clinicians = (
        StaffMember.objects.filter(
            organization_id=staff.organization_id,
            programs__in=counted,
            role__in=[StaffMember.Role.CLINICIAN, StaffMember.Role.CLINICAL_LEAD],
            is_active=True,
        )
        .select_related("user")
        .distinct()
        .order_by("user__last_name", "user__first_name")
    )
    context: dict[str, object] = {
        "nav": "reports",
        "programs": counted,
        "part2_left_out": [p.name for p in left_out],
        "clinicians": clinicians,
        "query": request.GET,
    }
    try:
        scope = _scope(request, staff)
    except ScopeRefused as refusal:
        _refused(request)
        context["refusal"] = refusal.message
        return render(request, "reports/dashboard.html", context, status=400)
    sections = []
    charts = {}
    names = figures.Names.for_scope(scope)
    for key, title in figures.SECTIONS:
        tables = [suppress(t) for t in figures.section_tables(scope, key, names)]
        for table in tables:
            if table.key == "weekly":
                charts[table.key] = rate_chart(
                    table,
                    table.columns[3],
                    title=_("Active share of patients in treatment, by week"),
                )
            if table.key == "retention":
                charts[table.key] = rate_chart(
                    table, table.columns[3], title=_("Retention by week since admission")
                )
        sections.append(
            {
                "key": key,
                "title": title,
                "tables": [
                    {
                        "table": t,
                        "rows": _rows(t) if len(t.rows) <= ROWS_ON_THE_PAGE else [],
                        "row_count": len(t.rows),
                        "chart": charts.get(t.key),
                    }
                    for t in tables
                ],
            }
        )
    _viewed(request, "dashboard")
    context.update(scope=scope, sections=sections, query_string=request.GET.urlencode())
    return render(request, "reports/dashboard.html", context)


def _csv_cell(text: str) -> str:
    # A spreadsheet runs a cell starting with these as a formula (names come from staff).
    return "'" + text if text[:1] in ("=", "+", "@") else text


@staff_required
def table_csv(request: HttpRequest, table_key: str) -> HttpResponse:
    staff = _staff(request)
    section = figures.section_of(table_key)
    if section is None:
        _refused(request)
        raise Http404
    try:
        scope = _scope(request, staff)
    except ScopeRefused as refusal:
        _refused(request)
        return HttpResponse(refusal.message, status=400, content_type="text/plain; charset=utf-8")
    table = next(
        (suppress(t) for t in figures.section_tables(scope, section) if t.key == table_key), None
    )
    if table is None:
        _refused(request)
        raise Http404
    buffer = io.StringIO()
    buffer.write(
        "# "
        + _(
            "%(caption)s, %(start)s to %(end)s. Cells marked * are suppressed (CMS: no cell from 1 to 10, and enough others that no total gives one away)."
        )
        % {"caption": table.caption, "start": scope.start, "end": scope.end}
        + "\n"
    )
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_csv_cell(str(c.label)) for c in table.columns])
    for row in _rows(table):
        writer.writerow([_csv_cell(str(cell)) for cell in row["cells"]])  # type: ignore[attr-defined]
    _viewed(request, f"csv:{table_key}")
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="tether-{table_key}-{scope.start}-{scope.end}.csv"'
    )
    return response
