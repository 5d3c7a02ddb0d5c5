"""Patients with their logins, episodes, step-downs, care teams, and the teen's parent,
registered, stepped down, discharged and invited through the same services as the pages.

A patient who has signed in has the shared demo password, ``has_seen_welcome`` and
a ``last_login`` that fits their story; one who never has has no usable password
(and one of them has an invite waiting).
"""

from __future__ import annotations

import datetime as dt

from tether.accounts.models import Invite, User
from tether.accounts.services import invite_create
from tether.demo import roster
from tether.demo.context import DemoContext
from tether.demo.timeline import Timeline, timeline_for
from tether.family.invitations import family_invite
from tether.patients.models import (
    CareTeamMember,
    Episode,
    LevelOfCare,
    LevelOfCareChange,
    Proxy,
)
from tether.patients.services import episode_discharge, level_of_care_change, patient_register

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
    """The group facilitators of each program segment (the primary therapist is on the
    team from registration)."""
    org = ctx.org
    members = []
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
    """Each patient goes through the services the front desk and the clinicians use:
    registration (login, patient, first episode, primary therapist), the step-down and
    the discharge on their days. What the services do not take, because it is the
    person's own doing in a real program, is written directly afterwards: the demo
    login's username and shared password, when they last signed in, and the
    group-facilitator memberships of past program segments."""
    specs = roster.PATIENTS
    desk = ctx.staff[_front_desk()]
    for index, spec in enumerate(specs):
        timeline = timeline_for(spec, today=ctx.today)
        ctx.timelines[spec.username] = timeline
        primary = ctx.staff[spec.primary]
        patient = patient_register(
            registered_by=desk,
            program=ctx.programs[timeline.current_program],
            first_name=spec.first_name,
            last_name=spec.last_name,
            preferred_name=spec.preferred_name,
            date_of_birth=_date_of_birth(ctx, spec),
            record_number=f"RB-{_FIRST_MRN + index}",
            mobile_phone=f"413-555-01{_FIRST_PHONE + index:02d}",
            email=f"{spec.first_name}.{spec.last_name}@example.com".lower()
            if spec.has_email
            else "",
            level_of_care=_level(timeline.segments[0].program),
            admitted_on=timeline.admitted_on,
            primary_therapist=primary,
        )
        episode = patient.episodes.get()
        if timeline.stepped_down_on is not None:
            level_of_care_change(
                episode=episode,
                to_level=_level(timeline.segments[1].program),
                changed_on=timeline.stepped_down_on,
                reason=LevelOfCareChange.Reason.IMPROVED,
                staff=primary,
                user=primary.user,
                now=ctx.now,
            )
        if timeline.discharged_on is not None and spec.discharge_reason is not None:
            episode_discharge(
                episode=episode,
                discharged_on=timeline.discharged_on,
                reason=spec.discharge_reason,
                next_appointments="",
                who_to_call="",
                keeps_safety_plan=True,
                offer_final_measures=False,
                staff=primary,
                user=primary.user,
                now=ctx.now,
            )
            episode.refresh_from_db()
        user = patient.user
        if user is None:
            raise RuntimeError("Registration made no login.")
        ctx.users[spec.username] = user
        ctx.patients[spec.username] = patient
        ctx.episodes[spec.username] = episode

    # The person's own doing: signed in (the shared demo password) or not yet.
    users = []
    for spec in specs:
        user, timeline = ctx.users[spec.username], ctx.timelines[spec.username]
        user.username = spec.username
        user.has_seen_welcome = spec.last_login_days_ago is not None
        user.date_joined = _at(ctx, timeline.admitted_on, 9)
        if spec.last_login_days_ago is not None:
            user.password = ctx.password_hash
            user.last_login = ctx.days_ago(spec.last_login_days_ago)
        users.append(user)
    User.objects.bulk_update(
        users, ["username", "password", "has_seen_welcome", "date_joined", "last_login"]
    )

    # Facilitators of past segments (a group's roster adds today's facilitator itself).
    members = []
    for spec in specs:
        members.extend(
            _care_team(ctx, spec, ctx.episodes[spec.username], ctx.timelines[spec.username])
        )
    CareTeamMember.objects.bulk_create(members)

    for proxy_spec in roster.PROXIES:
        patient = ctx.patients[proxy_spec.patient]
        spec = next(s for s in specs if s.username == proxy_spec.patient)
        primary = ctx.staff[spec.primary]
        invitation = family_invite(
            patient=patient,
            first_name=proxy_spec.first_name,
            last_name=proxy_spec.last_name,
            email=f"{proxy_spec.first_name}.{proxy_spec.last_name}@example.com".lower(),
            relationship=Proxy.Relationship.PARENT,
            is_legal_guardian=True,
            scopes={Proxy.Scope.ATTENDANCE, Proxy.Scope.APPOINTMENTS},
            patient_agreed=True,
            invited_by=primary.user,
            send_email=False,
        )
        # She accepted the invitation (the shared demo password) and has signed in.
        proxy_user = invitation.proxy.user
        proxy_user.username = proxy_spec.username
        proxy_user.password = ctx.password_hash
        proxy_user.has_seen_welcome = True
        proxy_user.date_joined = _at(ctx, ctx.episodes[proxy_spec.patient].admitted_on, 10)
        proxy_user.last_login = ctx.days_ago(proxy_spec.last_login_days_ago)
        proxy_user.save(
            update_fields=["username", "password", "has_seen_welcome", "date_joined", "last_login"]
        )
        Invite.objects.filter(pk=invitation.issued.invite.pk).update(used_at=proxy_user.date_joined)
        ctx.users[proxy_spec.username] = proxy_user

    for spec in specs:
        if spec.invite_pending:
            invite_create(user=ctx.users[spec.username], created_by=desk.user)

    episodes = list(ctx.episodes.values())
    ctx.counts["patients"] = len(specs)
    ctx.counts["discharged"] = sum(1 for e in episodes if e.status == Episode.Status.DISCHARGED)
    ctx.counts["step-downs"] = LevelOfCareChange.objects.filter(episode__in=episodes).count()


def _front_desk() -> str:
    return next(s for s in roster.STAFF if s.role == roster.R.FRONT_DESK).username
