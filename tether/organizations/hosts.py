"""Which organization a host name belongs to (``TETHER_HOST_ORGANIZATIONS``).

Signed out, Tether cannot know who is asking, but it knows which address they
typed: ``portal.riverbend.org`` is Riverbend's portal. The mapping is a setting,
not a table, so that it is fixed at deploy time and read without a query:

    TETHER_HOST_ORGANIZATIONS="portal.riverbend.org=riverbend,riverbend.example=riverbend"

Each entry is ``host=organization-slug``. Hosts are matched without the port and
case-insensitively. A host that is not listed belongs to no organization: pages
that depend on it (the signed-out crisis page) then show nothing of any tenant.

This module is imported by ``tether/settings.py``: keep it free of model imports
at module level.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http.request import split_domain_port

if TYPE_CHECKING:
    from django.http import HttpRequest

    from tether.organizations.models import Organization

logger = logging.getLogger(__name__)

SETTING = "TETHER_HOST_ORGANIZATIONS"

# The demo clinic (tether/demo/roster.py ORGANIZATION_SLUG), served on this machine.
DEMO_SLUG = "riverbend-demo"
DEMO_HOSTS = ("127.0.0.1", "localhost")

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
# A host name or an IPv4 address (letters, digits, dots, hyphens), or a bracketed IPv6.
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])$")


def parse_host_organizations(entries: list[str], *, name: str = SETTING) -> dict[str, str]:
    """``["host=slug", ...]`` (from ``env_list``) as ``{host: slug}``.

    Raises ImproperlyConfigured, naming the variable and the entry, for anything
    that is not a plain host, an ``=`` and an organization short name, and for a
    host given twice with two different organizations.
    """
    mapping: dict[str, str] = {}
    for entry in entries:
        host, sep, slug = (part.strip() for part in entry.partition("="))
        host = host.lower()
        if not sep or not host or not slug:
            raise ImproperlyConfigured(
                f"{name}: {entry!r} is not host=organization-short-name "
                f"(e.g. portal.example.org=riverbend)."
            )
        if not _HOST.match(host):
            raise ImproperlyConfigured(
                f"{name}: {host!r} in {entry!r} is not a plain host name "
                f"(no scheme, port or path: portal.example.org)."
            )
        if not _SLUG.match(slug):
            raise ImproperlyConfigured(
                f"{name}: {slug!r} in {entry!r} is not an organization short name "
                f"(letters, digits, hyphens and underscores)."
            )
        if mapping.get(host, slug) != slug:
            raise ImproperlyConfigured(
                f"{name}: {host!r} is given twice, for {mapping[host]!r} and {slug!r}."
            )
        mapping[host] = slug
    return mapping


def default_host_entries(*, demo: bool) -> list[str]:
    """Without the variable: the demo clinic on this machine, and nothing otherwise."""
    return [f"{host}={DEMO_SLUG}" for host in DEMO_HOSTS] if demo else []


def slug_for_host(host: str) -> str | None:
    domain, _port = split_domain_port(host)
    mapping: dict[str, str] = getattr(settings, SETTING, {})
    return mapping.get(domain.lower()) if domain else None


def organization_for_request(request: HttpRequest) -> Organization | None:
    """The organization whose portal this request's host is, or None."""
    from tether.organizations.models import Organization  # not at module level: see above

    slug = slug_for_host(request.get_host())
    if slug is None:
        return None
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        logger.warning("%s names an organization that does not exist: %r", SETTING, slug)
    return organization
