"""Importing a schedule from CSV and .ics: a preview with per-row problems, nothing
saved from a file with any problem, the right people only; the 1,000-row figure."""

from __future__ import annotations

import base64
import datetime as dt
import time
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tether.privacy.models import AuditEvent
from tether.scheduling.models import Appointment, Attendance

pytestmark = pytest.mark.django_db

HEADER = "record_number,date,start,minutes,kind,clinician_email,room,video_link\n"
DANA = "dana.clinician@example.org"


def _day(cast: Any, days: int = 3) -> dt.date:
    return timezone.now().astimezone(cast.iop.tzinfo).date() + dt.timedelta(days=days)


def _csv(lines: list[str]) -> bytes:
    return (HEADER + "\n".join(lines) + "\n").encode()


def _upload(client: Any, cast: Any, data: bytes, name: str = "sessions.csv") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("scheduling:import"),
        {"program": cast.iop.pk, "step": "preview", "file": SimpleUploadedFile(name, data)},
    )


def _confirm(client: Any, cast: Any, data: bytes, fmt: str = "csv") -> Any:
    return client.post(
        reverse("scheduling:import"),
        {
            "program": cast.iop.pk,
            "step": "import",
            "format": fmt,
            "content": base64.b64encode(data).decode(),
        },
    )


def _good(cast: Any) -> bytes:
    day = _day(cast).isoformat()
    return _csv(
        [
            f"MRN-maria.g,{day},10:00,50,individual,{DANA},Office 4,",
            f"MRN-tom.b,{day},11:00,50,family,{DANA},Office 4,https://video.example.org/tom",
        ]
    )


def test_a_good_file_is_previewed_then_imported_whole(cast: Any, client_as: Any) -> None:
    client = client_as(cast.front_desk)
    preview = _upload(client, cast, _good(cast))
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "Every row is right." in body and "Maria Garcia" in body
    assert not Appointment.objects.exists()  # a preview saves nothing
    response = _confirm(client, cast, _good(cast))
    assert response.status_code == 302
    assert Appointment.objects.count() == 2
    tom = Attendance.objects.get(patient=cast.other_patient.patient)
    assert tom.appointment.kind == "family"
    assert tom.appointment.starts_at.astimezone(cast.iop.tzinfo).time() == dt.time(11, 0)
    assert (
        AuditEvent.objects.filter(
            object_type="scheduling.appointment", action="create", actor=cast.front_desk
        ).count()
        == 2
    )


def test_each_bad_row_is_named_and_nothing_is_saved(cast: Any, client_as: Any) -> None:
    day = _day(cast).isoformat()
    past = _day(cast, -2).isoformat()
    data = _csv(
        [
            f"MRN-maria.g,{day},10:00,50,individual,{DANA},Office 4,",
            f"MRN-maria.g,2027-02-30,10:00,50,individual,{DANA},Office 4,",
            f"MRN-nobody,{day},12:00,50,individual,{DANA},Office 5,",
            f"MRN-tom.b,{day},10:30,50,individual,{DANA},Office 6,",
            f"MRN-tom.b,{past},10:00,50,individual,{DANA},Office 6,",
            f"MRN-tom.b,{day},15:00,50,weekly,{DANA},Office 6,",
        ]
    )
    client = client_as(cast.front_desk)
    response = _upload(client, cast, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "5 rows need fixing" in body
    assert "“2027-02-30” is not a date" in body
    assert "No patient of Adult IOP with record number “MRN-nobody” that you may book." in body
    assert "The clinician already has “row 2 of this file” at this time." in body
    assert "This session is in the past." in body
    assert "Kind must be “individual” or “family”" in body
    assert 'value="import"' not in body  # no import button while any row is wrong
    # Posting the same content straight to the import step saves nothing either.
    response = _confirm(client, cast, data)
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_message(cast: Any, client_as: Any) -> None:
    data = _good(cast).replace(b"Office 4", "Büro 4".encode("latin-1"))
    response = _upload(client_as(cast.front_desk), cast, data)
    assert response.status_code == 400
    assert "This file is not UTF-8 text." in response.content.decode()


def test_a_csv_saved_by_a_spreadsheet_with_a_byte_order_mark_is_read(
    cast: Any, client_as: Any
) -> None:
    response = _upload(client_as(cast.front_desk), cast, b"\xef\xbb\xbf" + _good(cast))
    assert response.status_code == 200
    assert "Every row is right." in response.content.decode()


def test_an_ics_file_that_is_not_utf8_is_refused(cast: Any, client_as: Any) -> None:
    day = _day(cast).strftime("%Y%m%d")
    event = _event(
        "a",
        [
            f"DTSTART:{day}T090000",
            "DURATION:PT50M",
            "DESCRIPTION:MRN: MRN-maria.g",
            f"ORGANIZER:mailto:{DANA}",
            "LOCATION:Büro 4",
        ],
    )
    data = _ics([event]).decode().encode("latin-1")
    response = _upload(client_as(cast.front_desk), cast, data, "export.ics")
    assert response.status_code == 400
    assert "This file is not UTF-8 text." in response.content.decode()
    assert not Appointment.objects.exists()


def _spring_forward(cast: Any) -> dt.date:
    """The next day the program's clocks skip an hour (02:00 to 03:00)."""
    day = _day(cast)
    while True:
        day += dt.timedelta(days=1)
        before = dt.datetime.combine(day, dt.time(1), tzinfo=cast.iop.tzinfo).utcoffset()
        after = dt.datetime.combine(day, dt.time(4), tzinfo=cast.iop.tzinfo).utcoffset()
        if before is not None and after is not None and after > before:
            return day


def test_a_time_the_clocks_skip_is_named_on_its_row_and_nothing_is_saved(
    cast: Any, client_as: Any
) -> None:
    day = _spring_forward(cast)
    data = _csv(
        [
            f"MRN-maria.g,{_day(cast).isoformat()},10:00,50,individual,{DANA},Office 4,",
            f"MRN-tom.b,{day.isoformat()},02:30,50,individual,{DANA},Office 4,",
        ]
    )
    client = client_as(cast.front_desk)
    response = _upload(client, cast, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "1 row needs fixing" in body
    assert f"02:30 does not exist on {day.isoformat()} in {cast.iop.time_zone}" in body
    assert _confirm(client, cast, data).status_code == 400
    assert not Appointment.objects.exists()
    # The same in a calendar export that names its zone.
    stamp = day.strftime("%Y%m%d")
    ics = _ics(
        [
            _event(
                "a",
                [
                    f"DTSTART;TZID={cast.iop.time_zone}:{stamp}T023000",
                    "DURATION:PT50M",
                    "DESCRIPTION:MRN: MRN-tom.b",
                    f"ORGANIZER:mailto:{DANA}",
                ],
            )
        ]
    )
    response = _upload(client, cast, ics, "export.ics")
    assert response.status_code == 400
    assert "does not exist on" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_csv_without_the_header_is_refused(cast: Any, client_as: Any) -> None:
    response = _upload(client_as(cast.front_desk), cast, b"MRN-maria.g,2030-01-01,10:00\n")
    assert "The first row must name the columns" in response.content.decode()


def _ics(events: list[str]) -> bytes:
    body = "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//EHR//Export//EN", *events, "END:VCALENDAR"]
    )
    return (body + "\r\n").encode()


def _event(uid: str, lines: list[str]) -> str:
    return "\r\n".join(["BEGIN:VEVENT", f"UID:{uid}", *lines, "END:VEVENT"])


def test_an_ics_export_is_read_with_its_time_zones(cast: Any, client_as: Any) -> None:
    day = _day(cast).strftime("%Y%m%d")
    data = _ics(
        [
            _event(
                "a",
                [
                    f"DTSTART;TZID=America/Los_Angeles:{day}T090000",
                    f"DTEND;TZID=America/Los_Angeles:{day}T095000",
                    "SUMMARY:Individual session",
                    "DESCRIPTION:MRN: MRN-maria.g",
                    f"ORGANIZER:mailto:{DANA}",
                    "LOCATION:Office 4",
                ],
            ),
            _event(
                "b",
                [
                    f"DTSTART:{day}T130000",
                    "DURATION:PT50M",
                    "SUMMARY:Family session MRN: MRN-tom.b",
                    f"ORGANIZER:mailto:{DANA}",
                    "URL:https://video.example.org/tom",
                ],
            ),
        ]
    )
    client = client_as(cast.front_desk)
    assert _upload(client, cast, data, "next-month.ics").status_code == 200
    assert _confirm(client, cast, data, "ics").status_code == 302
    maria = Attendance.objects.get(patient=cast.patient.patient).appointment
    assert maria.starts_at == dt.datetime.combine(
        _day(cast), dt.time(9), tzinfo=__import__("zoneinfo").ZoneInfo("America/Los_Angeles")
    )
    tom = Attendance.objects.get(patient=cast.other_patient.patient).appointment
    # A floating time is read on the program's clock.
    assert tom.starts_at.astimezone(cast.iop.tzinfo).time() == dt.time(13)
    assert (tom.kind, tom.video_url) == ("family", "https://video.example.org/tom")


def test_bad_ics_events_are_named_on_their_row(cast: Any, client_as: Any) -> None:
    day = _day(cast).strftime("%Y%m%d")
    who = ["DESCRIPTION:MRN: MRN-maria.g", f"ORGANIZER:mailto:{DANA}"]
    data = _ics(
        [
            _event("a", [f"DTSTART;TZID=Mars/Olympus:{day}T090000", "DURATION:PT50M", *who]),
            _event("b", [f"DTSTART;VALUE=DATE:{day}", *who]),
            _event("c", [f"DTSTART:{day}T150000Z", "DURATION:PT50M", "RRULE:FREQ=WEEKLY", *who]),
        ]
    )
    response = _upload(client_as(cast.front_desk), cast, data, "export.ics")
    assert response.status_code == 400
    body = response.content.decode()
    assert "names a time zone nobody knows: “Mars/Olympus”" in body
    assert "An all-day event has no time" in body
    assert "A repeating event is not imported" in body
    assert not Appointment.objects.exists()


def test_not_a_calendar_is_refused(cast: Any, client_as: Any) -> None:
    response = _upload(client_as(cast.front_desk), cast, b"hello", "x.ics")
    assert "This is not an iCalendar (.ics) file." in response.content.decode()


@pytest.mark.parametrize("persona", ("front_desk", "clinical_lead"))
def test_the_right_people_import(cast: Any, client_as: Any, persona: str) -> None:
    assert client_as(getattr(cast, persona)).get(reverse("scheduling:import")).status_code == 200


@pytest.mark.parametrize(
    "persona",
    (
        "assigned_clinician",
        "unassigned_clinician",
        "on_call",
        "program_admin",
        "privacy_officer",
        "other_org_clinician",
        "patient",
        "parent",
    ),
)
def test_it_checks_access_and_the_wrong_people_cannot_post(
    cast: Any, client_as: Any, persona: str
) -> None:
    client = client_as(getattr(cast, persona))
    assert client.get(reverse("scheduling:import")).status_code == 404
    assert _confirm(client, cast, _good(cast)).status_code == 404
    assert not Appointment.objects.exists()


def test_a_clinician_sees_only_patients_they_may_book(cast: Any, client_as: Any) -> None:
    # The lead's program relation covers both; the file's rows need both patients.
    body = _upload(client_as(cast.clinical_lead), cast, _good(cast)).content.decode()
    assert "Every row is right." in body


def test_a_1000_row_file(cast: Any, client_as: Any, capsys: Any) -> None:
    start = timezone.now().astimezone(cast.iop.tzinfo).replace(
        minute=0, second=0, microsecond=0
    ) + dt.timedelta(days=1)
    lines = []
    for n in range(1000):
        at = start + dt.timedelta(hours=n)
        mrn = "MRN-maria.g" if n % 2 else "MRN-tom.b"
        lines.append(f"{mrn},{at.date().isoformat()},{at.strftime('%H:%M')},50,individual,{DANA},,")
    data = _csv(lines)
    client = client_as(cast.front_desk)
    with CaptureQueriesContext(connection) as preview_queries:
        began = time.perf_counter()
        preview = _upload(client, cast, data)
        preview_seconds = time.perf_counter() - began
    assert preview.status_code == 200, preview.content.decode()[:2000]
    with CaptureQueriesContext(connection) as import_queries:
        began = time.perf_counter()
        response = _confirm(client, cast, data)
        import_seconds = time.perf_counter() - began
    assert response.status_code == 302
    assert Appointment.objects.count() == 1000 and Attendance.objects.count() == 1000
    with capsys.disabled():
        print(
            f"\nIMPORT 1000 rows ({len(data) // 1024} KB): preview {preview_seconds:.2f} s, "
            f"{len(preview_queries)} queries; import {import_seconds:.2f} s, "
            f"{len(import_queries)} queries"
        )
    assert len(preview_queries) < 30 and len(import_queries) < 40


def test_a_patient_booked_twice_at_once_is_named_on_the_later_row(
    cast: Any, client_as: Any
) -> None:
    day = _day(cast).isoformat()
    data = _csv(
        [
            f"MRN-maria.g,{day},10:00,50,individual,{DANA},Office 4,",
            f"MRN-maria.g,{day},10:30,50,family,uri.clinician@example.org,Office 7,",
        ]
    )
    response = _upload(client_as(cast.front_desk), cast, data)
    assert response.status_code == 400
    assert "The patient is already booked for “row 2 of this file” at this time." in (
        response.content.decode()
    )
    assert not Appointment.objects.exists()
