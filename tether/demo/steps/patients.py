"""Patients with their logins, episodes, step-downs, care teams, and the teen's parent.

A patient who has signed in has the shared demo password, ``has_seen_welcome`` and
a ``last_login`` that fits their story; one who never has has no usable password
(and one of them has an invite waiting).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.hashers import make_password

from tether.accounts.models import User
from tether.accounts.services import invite_create
from tether.demo import roster
from tether.demo.context import DemoContext
from tether.demo.timeline import Timeline, timeline_for
from tether.patients.models import (
    CareTeamMember,
    Episode,
    LevelOfCare,
    LevelOfCareChange,
    Patient,
    Proxy,
)

_FIRST_MRN = 24001
_FIRST_PHONE = 20  # 413-555-0120 onwards; programs use 0100-0111


def _date_of_birth(ctx: DemoContext, spec: roster.PatientSpec) -> dt.date:
    """Exactly ``spec.age`` years old today, born on a day of the year of its own."""
    today = ctx.today
    day = 28 if (today.month, today.day) == (2, 29) else today.day
    anniversary = today.replace(year=today.year - spec.age, day=day)
    return anniversary - dt.timedelta(days=ctx.rng("born", spec.username).randint(20, 340))


def _at(ctx: DemoContext, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ctx.tz)


def _level(program: str) -> LevelOfCare:
    return LevelOfCare.PHP if program == "php" else LevelOfCare.IOP


def _care_team(
    ctx: DemoContext, spec: roster.PatientSpec, episode: Episode, timeline: Timeline
) -> list[CareTeamMember]:
    org = ctx.org
    members = [
        CareTeamMember(
            organization=org,
            episode=episode,
            staff_member=ctx.staff[spec.primary],
            role=CareTeamMember.Role.PRIMARY_THERAPIST,
            started_on=timeline.admitted_on,
            ended_on=timeline.discharged_on,
        )
    ]
    for index, segment in enumerate(timeline.segments):
        facilitator = roster.PROGRAMS_BY_KEY[segment.program].group.facilitator
        if facilitator == spec.primary:
            continue  # already on the team; one active membership per person
        is_last = index == len(timeline.segments) - 1
        members.append(
            CareTeamMember(
                organization=org,
                episode=episode,
                staff_member=ctx.staff[facilitator],
                role=CareTeamMember.Role.GROUP_FACILITATOR,
                started_on=segment.starts_on,
                ended_on=timeline.discharged_on
                if is_last
                else timeline.segments[index + 1].starts_on,
            )
        )
    return members


def run(ctx: DemoContext) -> None:
    org = ctx.org
    specs = roster.PATIENTS
    for spec in specs:
        ctx.timelines[spec.username] = timeline_for(spec, today=ctx.today)

    users = []
    for spec in specs:
        timeline = ctx.timelines[spec.username]
        signed_in = spec.last_login_days_ago is not None
        users.append(
            User(
                username=spec.username,
                # Never signed in: no password yet, as after intake (an invite sets one).
                password=ctx.password_hash if signed_in else make_password(None),
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=f"{spec.first_name}.{spec.last_name}@example.com".lower()
                if spec.has_email
                else "",
                kind=User.Kind.PATIENT,
                organization=org,
                has_seen_welcome=signed_in,
                date_joined=_at(ctx, timeline.admitted_on, 9),
                last_login=ctx.days_ago(spec.last_login_days_ago)
                if spec.last_login_days_ago is not None
                else None,
            )
        )
    User.objects.bulk_create(users)

    patients = [
        Patient(
            organization=org,
            user=user,
            first_name=spec.first_name,
            last_name=spec.last_name,
            preferred_name=spec.preferred_name,
            date_of_birth=_date_of_birth(ctx, spec),
            record_number=f"RB-{_FIRST_MRN + index}",
            mobile_phone=f"413-555-01{_FIRST_PHONE + index:02d}",
        )
        for index, (spec, user) in enumerate(zip(specs, users, strict=True))
    ]
    Patient.objects.bulk_create(patients)

    episodes = []
    for spec, patient in zip(specs, patients, strict=True):
        timeline = ctx.timelines[spec.username]
        discharged = timeline.discharged_on is not None
        episodes.append(
            Episode(
                organization=org,
                patient=patient,
                program=ctx.programs[timeline.current_program],
                level_of_care=_level(timeline.current_program),
                status=Episode.Status.DISCHARGED if discharged else Episode.Status.ACTIVE,
                admitted_on=timeline.admitted_on,
                discharged_on=timeline.discharged_on,
                discharge_reason=spec.discharge_reason or "",
            )
        )
    Episode.objects.bulk_create(episodes)

    changes, members = [], []
    for spec, episode in zip(specs, episodes, strict=True):
        timeline = ctx.timelines[spec.username]
        if timeline.stepped_down_on is not None:
            changes.append(
                LevelOfCareChange(
                    organization=org,
                    episode=episode,
                    from_level=_level(timeline.segments[0].program),
                    to_level=_level(timeline.segments[1].program),
                    changed_on=timeline.stepped_down_on,
                    recorded_by=ctx.staff[spec.primary],
                )
            )
        members.extend(_care_team(ctx, spec, episode, timeline))
    LevelOfCareChange.objects.bulk_create(changes)
    CareTeamMember.objects.bulk_create(members)

    for spec, user, patient, episode in zip(specs, users, patients, episodes, strict=True):
        ctx.users[spec.username] = user
        ctx.patients[spec.username] = patient
        ctx.episodes[spec.username] = episode

    for proxy_spec in roster.PROXIES:
        patient = ctx.patients[proxy_spec.patient]
        proxy_user = User.objects.create(
            username=proxy_spec.username,
            password=ctx.password_hash,
            first_name=proxy_spec.first_name,
            last_name=proxy_spec.last_name,
            email=f"{proxy_spec.first_name}.{proxy_spec.last_name}@example.com".lower(),
            kind=User.Kind.PROXY,
            organization=org,
            has_seen_welcome=True,
            date_joined=_at(ctx, ctx.episodes[proxy_spec.patient].admitted_on, 10),
            last_login=ctx.days_ago(proxy_spec.last_login_days_ago),
        )
        Proxy.objects.create(
            organization=org,
            patient=patient,
            user=proxy_user,
            relationship=Proxy.Relationship.PARENT,
            is_legal_guardian=True,
        )
        ctx.users[proxy_spec.username] = proxy_user

    front_desk = next(s for s in roster.STAFF if s.role == roster.R.FRONT_DESK).username
    for spec in specs:
        if spec.invite_pending:
            invite_create(user=ctx.users[spec.username], created_by=ctx.users[front_desk])

    ctx.counts["patients"] = len(patients)
    ctx.counts["discharged"] = sum(1 for e in episodes if e.status == Episode.Status.DISCHARGED)
    ctx.counts["step-downs"] = len(changes)
