"""Who and what the demo clinic is made of: programs, staff and patients, as data.

Everyone here is invented. Phone numbers are in the 555-0100..0199 range that
is reserved for fiction; email addresses use the reserved example domains.
Days are counted back from the day the demo is seeded, so the clinic always
has about eight weeks of history behind it and two weeks of bookings ahead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tether.organizations.models import Program, StaffMember
from tether.patients.models import Episode

ORGANIZATION_NAME = "Riverbend Behavioral Health"
ORGANIZATION_SLUG = "riverbend-demo"
TIME_ZONE = "America/New_York"
HISTORY_DAYS = 56  # eight weeks of history
BOOKED_AHEAD_DAYS = 14  # two weeks of future appointments
SEED = 2026  # fixed: the demo is the same every time it is built
INDIVIDUAL_MINUTES = 50

MON, TUE, WED, THU, FRI = range(5)


@dataclass(frozen=True)
class GroupSpec:
    title: str
    weekdays: tuple[int, ...]
    starts: dt.time
    minutes: int
    location: str
    facilitator: str  # staff username


@dataclass(frozen=True)
class ProgramSpec:
    key: str
    name: str
    kind: Program.Kind
    crisis_line: str
    after_hours_line: str
    main_line: str
    group: GroupSpec
    # Weekly individual-session times offered to this program's patients.
    individual_slots: tuple[tuple[int, dt.time], ...]
    treats_substance_use: bool = False


def _slots(weekdays: tuple[int, ...], *times: dt.time) -> tuple[tuple[int, dt.time], ...]:
    return tuple((day, time) for time in times for day in weekdays)


PROGRAMS: tuple[ProgramSpec, ...] = (
    ProgramSpec(
        key="php",
        name="Adult PHP",
        kind=Program.Kind.PHP,
        crisis_line="413-555-0100",
        after_hours_line="413-555-0101",
        main_line="413-555-0102",
        group=GroupSpec(
            title="PHP day program",
            weekdays=(MON, TUE, WED, THU, FRI),
            starts=dt.time(9, 0),
            minutes=300,
            location="Group room A",
            facilitator="marcus.bell",
        ),
        individual_slots=_slots((MON, TUE, WED, THU, FRI), dt.time(14, 30), dt.time(15, 30)),
    ),
    ProgramSpec(
        key="iop",
        name="Adult IOP",
        kind=Program.Kind.IOP,
        crisis_line="413-555-0103",
        after_hours_line="413-555-0104",
        main_line="413-555-0105",
        group=GroupSpec(
            title="Adult IOP evening group",
            weekdays=(MON, WED, THU),
            starts=dt.time(18, 0),
            minutes=180,
            location="Group room B",
            facilitator="owen.castillo",
        ),
        individual_slots=_slots((MON, TUE, WED, THU, FRI), dt.time(16, 0), dt.time(17, 0)),
    ),
    ProgramSpec(
        key="teen",
        name="Adolescent IOP",
        kind=Program.Kind.ADOLESCENT_IOP,
        crisis_line="413-555-0106",
        after_hours_line="413-555-0107",
        main_line="413-555-0108",
        group=GroupSpec(
            title="Adolescent IOP after-school group",
            weekdays=(TUE, THU),
            starts=dt.time(16, 0),
            minutes=180,
            location="Teen room",
            facilitator="priya.natarajan",
        ),
        individual_slots=_slots((MON, WED, FRI), dt.time(15, 30), dt.time(16, 30)),
    ),
    ProgramSpec(
        key="recovery",
        name="Recovery IOP",
        kind=Program.Kind.IOP,
        crisis_line="413-555-0109",
        after_hours_line="413-555-0110",
        main_line="413-555-0111",
        group=GroupSpec(
            title="Recovery IOP morning group",
            weekdays=(MON, WED, FRI),
            starts=dt.time(9, 30),
            minutes=180,
            location="Group room C",
            facilitator="owen.castillo",
        ),
        individual_slots=_slots((MON, TUE, WED, THU, FRI), dt.time(13, 0), dt.time(14, 0)),
        treats_substance_use=True,
    ),
)
PROGRAMS_BY_KEY = {program.key: program for program in PROGRAMS}
ALL_PROGRAMS = tuple(program.key for program in PROGRAMS)
STEP_DOWN_PROGRAM = "iop"  # where PHP patients continue when they step down


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    role: StaffMember.Role
    title: str
    programs: tuple[str, ...]
    office: str = ""


R = StaffMember.Role
STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("demo.clinician", "Dana", "Reyes", R.CLINICIAN, "LCSW", ALL_PROGRAMS, "Office 4"),
    StaffSpec("marcus.bell", "Marcus", "Bell", R.CLINICIAN, "LPC", ("php", "iop"), "Office 2"),
    StaffSpec(
        "priya.natarajan", "Priya", "Natarajan", R.CLINICIAN, "PsyD", ("teen", "php"), "Office 3"
    ),
    StaffSpec(
        "owen.castillo", "Owen", "Castillo", R.CLINICIAN, "LCADC", ("iop", "recovery"), "Office 5"
    ),
    StaffSpec(
        "demo.lead", "Helen", "Okafor", R.CLINICAL_LEAD, "PhD, clinical director", ALL_PROGRAMS
    ),
    StaffSpec("demo.oncall", "Sam", "Whitaker", R.ON_CALL, "LMHC", ALL_PROGRAMS),
    StaffSpec("demo.frontdesk", "Jess", "Morgan", R.FRONT_DESK, "Front desk", ALL_PROGRAMS),
    StaffSpec("demo.admin", "Chris", "Albright", R.PROGRAM_ADMIN, "Program director", ALL_PROGRAMS),
    StaffSpec("demo.privacy", "Robin", "Hale", R.PRIVACY_OFFICER, "Privacy officer", ALL_PROGRAMS),
)


@dataclass(frozen=True)
class PatientSpec:
    username: str
    first_name: str
    last_name: str
    age: int
    program: str  # program key at admission
    admitted_days_ago: int
    primary: str  # primary therapist's username
    attendance: float = 0.9  # share of sessions attended (late counts as attended)
    late_share: float = 0.06  # of the sessions attended, the share arrived late
    preferred_name: str = ""
    step_down_after_days: int | None = None  # PHP -> Adult IOP after this many days
    discharged_days_ago: int | None = None
    discharge_reason: Episode.DischargeReason | None = None
    stopped_attending_days_ago: int | None = None  # silent, or about to leave
    slipping_since_days_ago: int | None = None  # attendance falling off since then
    last_login_days_ago: float | None = None  # None: never signed in
    invite_pending: bool = False
    has_email: bool = True


D = Episode.DischargeReason
PATIENTS: tuple[PatientSpec, ...] = (
    # Adult PHP, still at the PHP level.
    PatientSpec("lena.p", "Lena", "Park", 34, "php", 12, "marcus.bell", 0.9,
                last_login_days_ago=0.3),
    PatientSpec("victor.a", "Victor", "Alvarez", 51, "php", 9, "marcus.bell", 0.85,
                last_login_days_ago=1.2, has_email=False),
    PatientSpec("naomi.f", "Naomi", "Fischer", 27, "php", 6, "priya.natarajan", 0.92,
                last_login_days_ago=2.5),
    PatientSpec("tyrell.j", "Tyrell", "Jackson", 23, "php", 4, "demo.clinician", 0.8,
                has_email=False),
    PatientSpec("ruth.c", "Ruth", "Coleman", 45, "php", 1, "marcus.bell", 1.0,
                invite_pending=True),
    # Admitted to the Adult PHP, stepped down to the Adult IOP.
    PatientSpec("demo.patient", "Maya", "Thompson", 38, "php", 38, "demo.clinician", 0.96,
                step_down_after_days=20, last_login_days_ago=0.1),
    PatientSpec("ben.h", "Benjamin", "Hartley", 42, "php", 45, "marcus.bell", 0.86,
                preferred_name="Ben", step_down_after_days=19, last_login_days_ago=3.1),
    PatientSpec("sofia.m", "Sofia", "Marin", 31, "php", 30, "priya.natarajan", 0.92,
                step_down_after_days=15, last_login_days_ago=0.8),
    PatientSpec("grant.e", "Grant", "Ellison", 58, "php", 24, "marcus.bell", 0.8,
                step_down_after_days=14, last_login_days_ago=6.4, has_email=False),
    # Adult IOP.
    PatientSpec("derek.l", "Derek", "Lawson", 36, "iop", 33, "demo.clinician", 0.94,
                slipping_since_days_ago=14, last_login_days_ago=4.1),
    PatientSpec("tanya.b", "Tanya", "Brooks", 29, "iop", 26, "demo.clinician", 0.9,
                stopped_attending_days_ago=10, last_login_days_ago=10.2,
                # Her check-ins thinned out before she went silent (a fade, not a trip).
                slipping_since_days_ago=18),
    PatientSpec("hannah.w", "Hannah", "Wu", 25, "iop", 40, "owen.castillo", 0.9,
                last_login_days_ago=1.0),
    PatientSpec("luis.o", "Luis", "Ortega", 47, "iop", 19, "demo.clinician", 0.85,
                last_login_days_ago=2.2),
    PatientSpec("amara.n", "Amara", "Nwosu", 33, "iop", 12, "owen.castillo", 0.93,
                last_login_days_ago=0.5),
    PatientSpec("pete.k", "Peter", "Kowalski", 61, "iop", 8, "marcus.bell", 0.88,
                preferred_name="Pete", has_email=False),
    PatientSpec("jade.r", "Jade", "Robinson", 22, "iop", 4, "owen.castillo", 0.88,
                last_login_days_ago=1.5),
    # Adolescent IOP.
    PatientSpec("demo.teen", "Riley", "Chen", 15, "teen", 29, "demo.clinician", 0.9,
                late_share=0.15, last_login_days_ago=1.1, has_email=False),
    PatientSpec("ava.s", "Ava", "Sullivan", 16, "teen", 40, "priya.natarajan", 0.92,
                last_login_days_ago=0.6, has_email=False),
    PatientSpec("eli.g", "Elijah", "Goldberg", 14, "teen", 22, "priya.natarajan", 0.8,
                preferred_name="Eli", late_share=0.2, last_login_days_ago=3.0, has_email=False),
    PatientSpec("zoe.m", "Zoe", "Martinez", 17, "teen", 15, "priya.natarajan", 0.9,
                last_login_days_ago=0.9, has_email=False),
    PatientSpec("noah.b", "Noah", "Bennett", 15, "teen", 6, "priya.natarajan", 0.95,
                last_login_days_ago=2.0, has_email=False),
    # Recovery IOP (substance use, 42 CFR Part 2).
    PatientSpec("demo.recovery", "Jesse", "Morales", 41, "recovery", 20, "demo.clinician",
                0.88, last_login_days_ago=1.0),
    PatientSpec("kayla.d", "Kayla", "Dunn", 30, "recovery", 35, "owen.castillo", 0.85,
                last_login_days_ago=2.0),
    PatientSpec("ray.s", "Raymond", "Shaw", 54, "recovery", 13, "owen.castillo", 0.9,
                preferred_name="Ray", last_login_days_ago=5.0, has_email=False),
    PatientSpec("tina.v", "Tina", "Vasquez", 39, "recovery", 27, "owen.castillo", 0.82,
                last_login_days_ago=0.7),
    # Discharged.
    PatientSpec("carl.m", "Carl", "Mitchell", 44, "iop", 54, "owen.castillo", 0.9,
                discharged_days_ago=5, discharge_reason=D.STEPPED_DOWN, last_login_days_ago=6.0),
    PatientSpec("ellen.r", "Ellen", "Russo", 52, "php", 56, "marcus.bell", 0.9,
                step_down_after_days=16, discharged_days_ago=2, discharge_reason=D.COMPLETED,
                last_login_days_ago=3.0),
    PatientSpec("dylan.f", "Dylan", "Foster", 16, "teen", 55, "priya.natarajan", 0.88,
                discharged_days_ago=7, discharge_reason=D.COMPLETED, last_login_days_ago=8.0,
                has_email=False),
    PatientSpec("kevin.t", "Kevin", "Tran", 28, "iop", 42, "owen.castillo", 0.8,
                stopped_attending_days_ago=27, discharged_days_ago=18,
                discharge_reason=D.STOPPED_ATTENDING, last_login_days_ago=27.5),
    PatientSpec("mia.h", "Mia", "Hoffman", 35, "php", 20, "marcus.bell", 0.75,
                discharged_days_ago=14, discharge_reason=D.TRANSFERRED,
                last_login_days_ago=15.0),
)  # fmt: skip


@dataclass(frozen=True)
class ProxySpec:
    username: str
    first_name: str
    last_name: str
    patient: str  # the patient's username
    last_login_days_ago: float


PROXIES: tuple[ProxySpec, ...] = (ProxySpec("demo.parent", "Laura", "Chen", "demo.teen", 2.0),)
