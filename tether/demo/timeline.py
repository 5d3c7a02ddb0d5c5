"""A demo patient's course of treatment, in dates: admission, step-down, discharge,
and which program they were in on which days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tether.demo import roster
from tether.demo.clinic_calendar import open_on_or_after, open_on_or_before


@dataclass(frozen=True)
class Segment:
    """A stretch of the episode spent in one program (both ends included)."""

    program: str  # roster key
    starts_on: dt.date
    ends_on: dt.date

    def covers(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True)
class Timeline:
    admitted_on: dt.date
    stepped_down_on: dt.date | None
    discharged_on: dt.date | None
    segments: tuple[Segment, ...]

    @property
    def last_day(self) -> dt.date:
        return self.segments[-1].ends_on

    @property
    def current_program(self) -> str:
        return self.segments[-1].program

    def segment_on(self, day: dt.date) -> Segment | None:
        for segment in self.segments:
            if segment.covers(day):
                return segment
        return None


def timeline_for(spec: roster.PatientSpec, *, today: dt.date) -> Timeline:
    admitted_on = open_on_or_before(today - dt.timedelta(days=spec.admitted_days_ago))
    discharged_on = None
    if spec.discharged_days_ago is not None:
        discharged_on = open_on_or_before(today - dt.timedelta(days=spec.discharged_days_ago))
    last_day = discharged_on or today + dt.timedelta(days=roster.BOOKED_AHEAD_DAYS)
    stepped_down_on = None
    if spec.step_down_after_days is not None:
        stepped_down_on = open_on_or_after(
            admitted_on + dt.timedelta(days=spec.step_down_after_days)
        )
    if discharged_on is not None and discharged_on < admitted_on:
        raise ValueError(f"{spec.username}: discharged before admission")
    segments: tuple[Segment, ...]
    if stepped_down_on is not None and stepped_down_on <= min(today, last_day):
        segments = (
            Segment(spec.program, admitted_on, stepped_down_on - dt.timedelta(days=1)),
            Segment(roster.STEP_DOWN_PROGRAM, stepped_down_on, last_day),
        )
    else:
        stepped_down_on = None
        segments = (Segment(spec.program, admitted_on, last_day),)
    return Timeline(admitted_on, stepped_down_on, discharged_on, segments)
