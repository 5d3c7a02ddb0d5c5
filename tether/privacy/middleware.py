"""Request-scoped audit context: who is acting and from which address.

Services that record audit events without a request at hand (``request=None``)
still get the signed-in user and the client address from here.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tether.privacy import audit, gate


class AuditContextMiddleware:
    """Sets ``audit.audit_context`` for the duration of each request. For a request that
    changes nothing (GET, HEAD) the gate decides each patient once
    (``gate.decisions_once``) and the page's audit rows are written together at its end
    (``audit.written_together``: two inserts).

    Must come after ``AuthenticationMiddleware`` (it reads ``request.user``, lazily).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit.audit_context(
            user=getattr(request, "user", None), client_address=audit.client_address(request)
        ):
            if request.method in ("GET", "HEAD"):
                with gate.decisions_once(), audit.written_together():
                    return self.get_response(request)
            return self.get_response(request)
