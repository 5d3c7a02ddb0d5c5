"""What the demo steps share: the clock, the randomness, and what earlier steps built."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass, field

from tether.accounts.models import User
from tether.demo import roster
from tether.demo.stories import Story, username_for
from tether.demo.timeline import Timeline
from tether.organizations.models import Organization, Program, StaffMember
from tether.patients.models import Episode, Patient


@dataclass
class DemoContext:
    """Filled in step by step; a later step reads what an earlier one made.

    ``now`` is fixed once, so every step agrees on what "ten days ago" means;
    ``today`` is the date in the clinic's time zone.
    """

    now: dt.datetime
    password_hash: str
    organization: Organization | None = None
    programs: dict[str, Program] = field(default_factory=dict)  # by roster key
    staff: dict[str, StaffMember] = field(default_factory=dict)  # by username
    users: dict[str, User] = field(default_factory=dict)  # everyone, by username
    patients: dict[str, Patient] = field(default_factory=dict)  # by username
    episodes: dict[str, Episode] = field(default_factory=dict)  # latest episode, by username
    timelines: dict[str, Timeline] = field(default_factory=dict)  # by patient username
    counts: dict[str, int] = field(default_factory=dict)  # what each step made, for the summary

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(roster.TIME_ZONE)

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()

    @property
    def org(self) -> Organization:
        if self.organization is None:
            raise RuntimeError("The organization step has not run yet.")
        return self.organization

    def rng(self, *parts: object) -> random.Random:
        """A random stream of its own for each purpose, so adding one person or one
        step never reshuffles everyone else."""
        # Not for secrets: a repeatable stream is the point.
        return random.Random(":".join([str(roster.SEED), *map(str, parts)]))  # noqa: S311

    def days_ago(self, days: float) -> dt.datetime:
        return self.now - dt.timedelta(days=days)

    def patient_for(self, story: Story) -> Patient:
        return self.patients[username_for(story)]

    def user_for(self, story: Story) -> User:
        return self.users[username_for(story)]
