"""Helpers for family and proxy tests: grant a proxy scopes, make a program Part 2."""

from __future__ import annotations

from tether.organizations.models import Program
from tether.patients.models import Proxy
from tether.testing.cast import Cast


def grant(cast: Cast, *scopes: str, only: bool = False) -> Proxy:
    """Give the cast's parent these scopes on the adolescent (``only``: and no others)."""
    proxy = Proxy.objects.get(user=cast.parent, patient=cast.adolescent.patient)
    for scope in Proxy.Scope:
        if scope.value in scopes:
            setattr(proxy, f"scope_{scope.value}", True)
        elif only:
            setattr(proxy, f"scope_{scope.value}", False)
    proxy.save()
    return proxy


def make_part2(program: Program) -> None:
    """The program treats substance use (42 CFR Part 2)."""
    Program.objects.filter(pk=program.pk).update(treats_substance_use=True)
    program.refresh_from_db()
