"""The reports page and its CSV downloads: who may see them, what a refusal looks like,
the audit trail, the small-number rule on the page, and a constant number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tether.privacy.models import AuditEvent
from tether.reports.testing import admit, at, session
from tether.reports.views import REPORT_VIEW
from tether.scheduling.models import Attendance
from tether.testing.cast import Cast

URL = reverse("reports:dashboard")
ALLOWED = ("clinical_lead", "program_admin")
ONE_WEEK = dt.timedelta(days=7)


def _events(user_id: int, outcome: str) -> int:
    return AuditEvent.objects.filter(actor_id=user_id, outcome=outcome).count()


@pytest.mark.parametrize(
    "persona",
    [
        "clinical_lead",
        "program_admin",
        "assigned_clinician",
        "unassigned_clinician",
        "on_call",
        "front_desk",
        "privacy_officer",
        "other_org_clinician",
        "patient",
        "other_patient",
        "adolescent",
        "parent",
    ],
)
def test_it_checks_access(cast: Cast, client_as, persona: str) -> None:
    user = getattr(cast, persona)
    client: Client = client_as(user)
    page = client.get(URL)
    download = client.get(reverse("reports:table_csv", args=["dropout-by-program"]))
    if persona in ALLOWED:
        assert page.status_code == 200
        assert download.status_code == 200
        assert (
            AuditEvent.objects.filter(
                actor=user, object_type=REPORT_VIEW, patient__isnull=True, purpose="HOPERAT"
            ).count()
            == 2
        )
    else:
        assert (page.status_code, download.status_code) == (404, 404)
        assert _events(user.pk, AuditEvent.Outcome.DENIED) >= 2


def test_it_is_gone_for_someone_signed_out(client: Client) -> None:
    assert client.get(URL).status_code == 302


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"start": "2026-10-10", "end": "2026-10-01"}, "ends before it starts"),
        ({"start": "not-a-date"}, "not a date"),
        ({"program": "999999"}, "not one whose figures you may see"),
        ({"clinician": "999999"}, "does not work in these programs"),
    ],
)
def test_it_refuses_bad_filters_with_a_message(
    cast: Cast, client_as, query: dict[str, str], says: str
) -> None:
    client = client_as(cast.clinical_lead)
    denied_before = _events(cast.clinical_lead.pk, AuditEvent.Outcome.DENIED)
    page = client.get(URL, query)
    assert page.status_code == 400
    assert says in page.content.decode()
    assert "Download" not in page.content.decode()
    assert _events(cast.clinical_lead.pk, AuditEvent.Outcome.DENIED) == denied_before + 1
    assert not AuditEvent.objects.filter(object_type=REPORT_VIEW).exists()
    download = client.get(reverse("reports:table_csv", args=["funnel-by-program"]), query)
    assert download.status_code == 400


def test_it_refuses_a_program_of_another_organization(cast: Cast, client_as) -> None:
    from tether.organizations.models import Program

    elsewhere = Program.objects.get(organization=cast.other_organization)
    page = client_as(cast.program_admin).get(URL, {"program": elsewhere.pk})
    assert page.status_code == 400


def test_it_refuses_a_clinician_filter_that_isolates_a_few_patients(cast: Cast, client_as) -> None:
    # Dana has the cast's Maria and Jordan: two patients.
    page = client_as(cast.clinical_lead).get(
        URL, {"clinician": cast.assigned_clinician.staff_member.pk}
    )
    assert page.status_code == 400
    assert "fewer than 11 patients" in page.content.decode()


def test_it_shows_a_clinician_with_enough_patients(cast: Cast, client_as) -> None:
    dana = cast.assigned_clinician.staff_member
    for _ in range(11):
        admit(cast.iop, dana, timezone.localdate() - dt.timedelta(days=30))
    page = client_as(cast.clinical_lead).get(URL, {"clinician": dana.pk})
    assert page.status_code == 200


def _cohort(cast: Cast, size: int) -> None:
    dana = cast.assigned_clinician.staff_member
    today = timezone.localdate()
    for i in range(size):
        episode = admit(
            cast.iop,
            dana,
            today - dt.timedelta(days=40),
            discharged=today - dt.timedelta(days=3) if i % 3 == 0 else None,
            reason="stopped_attending" if i % 3 == 0 else "",
        )
        session(episode, dana, at(today - dt.timedelta(days=10)), status=Attendance.Status.ATTENDED)


def _queries(client: Client, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(200) as context:
        assert client.get(URL).status_code == 200
    return len(context.captured_queries)


def test_it_takes_the_same_number_of_queries_at_two_sizes(
    cast: Cast, client_as, django_assert_max_num_queries
) -> None:
    client = client_as(cast.clinical_lead)
    _cohort(cast, 3)
    small = _queries(client, django_assert_max_num_queries)
    _cohort(cast, 30)
    large = _queries(client, django_assert_max_num_queries)
    assert small == large


def test_it_suppresses_small_counts_on_the_page_and_in_the_csv(cast: Cast, client_as) -> None:
    _cohort(cast, 14)  # 14 + the cast's 2 in Adult IOP; 5 unplanned endings
    client = client_as(cast.clinical_lead)
    download = client.get(reverse("reports:table_csv", args=["dropout-by-program"]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    lines = download.content.decode().splitlines()
    assert lines[0].startswith("# ")
    rows = list(csv.reader(io.StringIO("\n".join(lines[1:]))))
    header, body = rows[0], rows[1:]
    adult = dict(zip(header, next(r for r in body if r[0] == "Adult IOP"), strict=True))
    everyone = dict(zip(header, next(r for r in body if r[0] == "All"), strict=True))
    assert everyone["Admitted"] == "17"
    # The Adolescent IOP's one admission is suppressed, so Adult IOP's 16 is too (else
    # 17 - 16 gives it away); 5 unplanned endings are suppressed with their total.
    assert adult["Admitted"] == "*"
    assert (adult["Unplanned endings (dropout)"], everyone["Unplanned endings (dropout)"]) == (
        "*",
        "*",
    )
    for row in body:
        for cell in row[1:]:
            if cell.isdigit():
                assert not 1 <= int(cell) <= 10


def test_it_refuses_a_program_of_its_own_organization_the_viewer_does_not_lead(
    cast: Cast, client_as
) -> None:
    from tether.organizations.models import Program

    not_mine = Program.objects.create(
        organization=cast.organization, name="Evening PHP", kind=Program.Kind.IOP
    )
    denied_before = _events(cast.clinical_lead.pk, AuditEvent.Outcome.DENIED)
    page = client_as(cast.clinical_lead).get(URL, {"program": not_mine.pk})
    assert page.status_code == 400
    assert "not one whose figures you may see" in page.content.decode()
    assert "Evening PHP" not in page.content.decode()
    assert _events(cast.clinical_lead.pk, AuditEvent.Outcome.DENIED) == denied_before + 1


def test_it_refuses_a_part2_program_asked_for_by_number(cast: Cast, client_as) -> None:
    cast.adolescent_iop.treats_substance_use = True
    cast.adolescent_iop.save(update_fields=["treats_substance_use"])
    page = client_as(cast.clinical_lead).get(URL, {"program": cast.adolescent_iop.pk})
    assert page.status_code == 400
    assert "not one whose figures you may see" in page.content.decode()


def test_a_refused_clinician_filter_shows_and_releases_nothing_and_is_audited(
    cast: Cast, client_as
) -> None:
    # Dana has the cast's two patients; 3 more makes 5: still identifiable people.
    dana = cast.assigned_clinician.staff_member
    for _ in range(3):
        admit(cast.iop, dana, timezone.localdate() - dt.timedelta(days=30))
    client = client_as(cast.clinical_lead)
    denied_before = _events(cast.clinical_lead.pk, AuditEvent.Outcome.DENIED)
    page = client.get(URL, {"clinician": dana.pk})
    text = page.content.decode()
    assert page.status_code == 400
    assert "fewer than 11 patients" in text
    assert "No figures shown" in text
    assert "<table" not in text and "Download" not in text
    download = client.get(
        reverse("reports:table_csv", args=["dropout-by-clinician"]), {"clinician": dana.pk}
    )
    assert download.status_code == 400
    assert "fewer than 11 patients" in download.content.decode()
    assert "Admitted" not in download.content.decode()
    assert _events(cast.clinical_lead.pk, AuditEvent.Outcome.DENIED) == denied_before + 2
    assert not AuditEvent.objects.filter(object_type=REPORT_VIEW).exists()


def test_it_shows_the_week_by_week_trend_of_each_clinician(cast: Cast, client_as) -> None:
    dana = cast.assigned_clinician.staff_member
    for _ in range(11):
        admit(cast.iop, dana, timezone.localdate() - dt.timedelta(days=30))
    client = client_as(cast.clinical_lead)

    def this_week(name: str) -> str:
        download = client.get(reverse("reports:table_csv", args=["weekly-by-clinician"]))
        lines = download.content.decode().splitlines()[1:]
        rows = list(csv.reader(io.StringIO("\n".join(lines))))
        header, body = rows[0], rows[1:]
        assert header[:3] == ["Week of", "Clinician", "In treatment"]
        row = next(r for r in body if r[0] == body[-1][0] and r[1] == name)
        return dict(zip(header, row, strict=True))["In treatment"]

    # Dana: the 11 new patients and the cast's Maria and Jordan; Uri has the cast's Tom
    # only: hidden, and so is Dana's count (else the week's 14 minus 13 gives Tom away).
    assert (this_week("Dana Staff"), this_week("Uri Staff"), this_week("All")) == ("*", "*", "14")
    for _ in range(11):
        admit(cast.iop, cast.unassigned_clinician.staff_member, timezone.localdate() - ONE_WEEK)
    assert (this_week("Dana Staff"), this_week("Uri Staff"), this_week("All")) == ("13", "12", "25")
    page = client.get(URL)
    assert 'id="table-weekly-by-clinician"' in page.content.decode()
    assert 'id="table-weekly-by-program"' in page.content.decode()


def test_a_table_too_long_for_the_page_is_offered_as_its_csv(
    cast: Cast, client_as, monkeypatch
) -> None:
    from tether.reports import views

    monkeypatch.setattr(views, "ROWS_ON_THE_PAGE", 5)  # weeks by clinicians: more than 5
    page = client_as(cast.clinical_lead).get(URL)
    text = page.content.decode()
    section = text[text.index('id="table-weekly-by-clinician"') :]
    section = section[: section.index("</div>\n  \n")] if "</div>\n  \n" in section else section
    assert "rows: too long for the page" in section
    assert reverse("reports:table_csv", args=["weekly-by-clinician"]) in section
    assert 'aria-labelledby="weekly-by-clinician-h"><table>' not in text
