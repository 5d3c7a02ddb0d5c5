"""The cast every access test uses: one organization with its people, and a stranger
organization. Built with plain ORM calls so tests read like the clinic they model."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.middleware import SESSION_LAST_SEEN, SESSION_STARTED
from tether.accounts.models import User
from tether.organizations.models import Organization, Program, StaffMember
from tether.patients.models import CareTeamMember, Episode, LevelOfCare, Patient, Proxy

PASSWORD = "correct horse battery staple"


@dataclass
class Cast:
    organization: Organization
    iop: Program
    adolescent_iop: Program
    other_organization: Organization
    patient: User
    other_patient: User
    adolescent: User
    parent: User
    assigned_clinician: User
    unassigned_clinician: User
    clinical_lead: User
    on_call: User
    front_desk: User
    program_admin: User
    privacy_officer: User
    other_org_clinician: User

    def personas(self) -> dict[str, User]:
        return {name: value for name, value in vars(self).items() if isinstance(value, User)}


def make_staff(
    organization: Organization,
    username: str,
    role: StaffMember.Role,
    programs: list[Program],
    *,
    first_name: str = "Sam",
    last_name: str = "Staff",
) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        email=f"{username}@example.org",
        first_name=first_name,
        last_name=last_name,
        kind=User.Kind.STAFF,
        organization=organization,
    )
    staff = StaffMember.objects.create(organization=organization, user=user, role=role)
    staff.programs.set(programs)
    TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    return user


def make_patient(
    organization: Organization,
    program: Program,
    username: str,
    *,
    first_name: str,
    last_name: str,
    born: dt.date = dt.date(1990, 5, 17),
    clinician: User | None = None,
) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        first_name=first_name,
        last_name=last_name,
        kind=User.Kind.PATIENT,
        organization=organization,
        has_seen_welcome=True,
    )
    patient = Patient.objects.create(
        organization=organization,
        user=user,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=born,
        record_number=f"MRN-{username}",
    )
    episode = Episode.objects.create(
        organization=organization,
        patient=patient,
        program=program,
        level_of_care=LevelOfCare.IOP,
        admitted_on=timezone.localdate() - dt.timedelta(days=21),
    )
    if clinician is not None:
        CareTeamMember.objects.create(
            organization=organization,
            episode=episode,
            staff_member=clinician.staff_member,
            role=CareTeamMember.Role.PRIMARY_THERAPIST,
            started_on=episode.admitted_on,
        )
    return user


def build_cast() -> Cast:
    org = Organization.objects.create(name="Riverbend Behavioral Health", slug="riverbend")
    iop = Program.objects.create(
        organization=org,
        name="Adult IOP",
        kind=Program.Kind.IOP,
        crisis_line="555-0100",
        after_hours_line="555-0101",
    )
    teen = Program.objects.create(
        organization=org,
        name="Adolescent IOP",
        kind=Program.Kind.ADOLESCENT_IOP,
        crisis_line="555-0110",
    )
    other_org = Organization.objects.create(name="Elsewhere Recovery", slug="elsewhere")
    other_program = Program.objects.create(
        organization=other_org, name="Elsewhere IOP", kind=Program.Kind.IOP, crisis_line="555-0900"
    )
    both = [iop, teen]
    assigned = make_staff(
        org, "dana.clinician", StaffMember.Role.CLINICIAN, both, first_name="Dana"
    )
    unassigned = make_staff(
        org, "uri.clinician", StaffMember.Role.CLINICIAN, both, first_name="Uri"
    )
    lead = make_staff(org, "lee.lead", StaffMember.Role.CLINICAL_LEAD, both, first_name="Lee")
    on_call = make_staff(org, "omar.oncall", StaffMember.Role.ON_CALL, both, first_name="Omar")
    desk = make_staff(org, "fran.desk", StaffMember.Role.FRONT_DESK, both, first_name="Fran")
    admin = make_staff(org, "ada.admin", StaffMember.Role.PROGRAM_ADMIN, both, first_name="Ada")
    privacy = make_staff(org, "pat.privacy", StaffMember.Role.PRIVACY_OFFICER, [], first_name="Pat")
    stranger = make_staff(
        other_org, "xena.elsewhere", StaffMember.Role.CLINICIAN, [other_program], first_name="Xena"
    )
    patient = make_patient(
        org, iop, "maria.g", first_name="Maria", last_name="Garcia", clinician=assigned
    )
    other_patient = make_patient(
        org, iop, "tom.b", first_name="Tom", last_name="Baker", clinician=unassigned
    )
    adolescent = make_patient(
        org,
        teen,
        "jordan.k",
        first_name="Jordan",
        last_name="Kim",
        born=timezone.localdate().replace(year=timezone.localdate().year - 15)
        - dt.timedelta(days=30),
        clinician=assigned,
    )
    parent = User.objects.create_user(
        username="grace.k",
        password=PASSWORD,
        first_name="Grace",
        last_name="Kim",
        kind=User.Kind.PROXY,
        organization=org,
    )
    Proxy.objects.create(
        organization=org,
        patient=adolescent.patient,
        user=parent,
        relationship=Proxy.Relationship.PARENT,
        is_legal_guardian=True,
    )
    return Cast(
        organization=org,
        iop=iop,
        adolescent_iop=teen,
        other_organization=other_org,
        patient=patient,
        other_patient=other_patient,
        adolescent=adolescent,
        parent=parent,
        assigned_clinician=assigned,
        unassigned_clinician=unassigned,
        clinical_lead=lead,
        on_call=on_call,
        front_desk=desk,
        program_admin=admin,
        privacy_officer=privacy,
        other_org_clinician=stranger,
    )


def sign_in(client: Client, user: User) -> Client:
    """Sign in as this person, past the two-step check where they have a device."""
    client.force_login(user, backend="tether.accounts.backends.UsernameOrEmailBackend")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    session = client.session
    if device is not None:
        session["otp_device_id"] = device.persistent_id
    now = time.time()
    session[SESSION_STARTED] = now
    session[SESSION_LAST_SEEN] = now
    session.save()
    return client
