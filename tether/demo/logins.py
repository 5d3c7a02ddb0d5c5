"""The fixed demo logins, and the table ``seed_demo`` prints (also in LOGINS.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEMO_PASSWORD = "tether-demo-2026"  # noqa: S105 - public by design; demo databases only
DEMO_URL = "http://127.0.0.1:8000"
LOGINS_FILE = Path(__file__).resolve().parent / "LOGINS.md"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    look_at: str


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(
        "Clinician",
        "demo.clinician",
        "Dana's caseload: Maya improving, Derek slipping, Tanya silent, Riley, Jesse",
    ),
    DemoLogin("Clinical lead", "demo.lead", "Every active patient in all four programs"),
    DemoLogin(
        "On-call clinician", "demo.oncall", "Every program's patients, for after-hours calls"
    ),
    DemoLogin("Front desk", "demo.frontdesk", "Schedules and attendance; Ruth Coleman's invite"),
    DemoLogin("Program admin", "demo.admin", "All four programs: intake, invites, reset codes"),
    DemoLogin("Privacy officer", "demo.privacy", "The audit trail: who looked at which record"),
    DemoLogin("Patient, adult", "demo.patient", "Maya: stepped down from PHP to IOP, improving"),
    DemoLogin("Patient, 15", "demo.teen", "Riley: Adolescent IOP after school, family sessions"),
    DemoLogin(
        "Parent of demo.teen",
        "demo.parent",
        "Laura: Riley's attendance, family assignment, updates",
    ),
    DemoLogin("Patient, Recovery IOP", "demo.recovery", "Jesse: substance use, 42 CFR Part 2"),
)


def login_table(url: str = DEMO_URL) -> str:
    """A Markdown table that also reads well in a terminal; ``url``: where the demo is
    served (``seed_demo`` passes ``SITE_URL``, which ``make demo`` sets from HOST/PORT)."""
    header = ("Role", "Username", "Password", "What to look at")
    rows = [(login.role, login.username, DEMO_PASSWORD, login.look_at) for login in DEMO_LOGINS]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        return (
            "| "
            + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            + " |"
        )

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join(
        [
            f"Demo logins (the same password for every one: {DEMO_PASSWORD})",
            "",
            line(header),
            rule,
            *(line(row) for row in rows),
            "",
            f"Open {url} and sign in.",
        ]
    )
