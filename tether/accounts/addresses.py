"""The client's address for sign-in limits: the real client behind the trusted proxy.

Behind the documented reverse proxy every request comes from the proxy's address, so
counting by ``REMOTE_ADDR`` would count every person as one. The proxy appends the
address it saw to ``X-Forwarded-For``; with ``PROXY_COUNT`` proxies in front, the
client is the ``PROXY_COUNT``-th entry from the right (each proxy appends one; what a
client writes into the header itself stays to the left and is never read). The header
is read only when the request comes from a trusted proxy (``PROXY_TRUSTED_IPS``,
addresses or networks): anyone else reaching the server directly could write anything
into it.

(django-ipware was tried for this and left out: its ``proxy_count`` counts proxies
*inside* the header and, with a client-written entry in front, either falls back to the
proxy's address or returns the client-written one; see docs/OPERATIONS.md.)
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _parse(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(peer: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    for entry in settings.TETHER_TRUSTED_PROXIES:
        try:
            if peer in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:  # checked at start-up; never trust a malformed entry
            continue
    return False


def client_address(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE`` and the address sign-in limits count by."""
    peer = _parse(request.META.get("REMOTE_ADDR"))
    if peer is None:
        return None
    proxies = int(settings.AXES_IPWARE_PROXY_COUNT or 0)
    if proxies <= 0 or not _trusted(peer):
        return str(peer)
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return str(peer)  # the proxy did not say: count by the proxy, never guess
    client = _parse(forwarded[-proxies])
    return str(client) if client is not None else str(peer)
