"""gunicorn settings read from the working directory (``gunicorn tether.wsgi:application``
run from the repository root, as docs/OPERATIONS.md says).

gunicorn writes ``Server: gunicorn`` on every response itself, outside the application,
and has no setting to turn it off, so its response's ``default_headers`` is wrapped to
leave that line out. Naming the server software only helps someone match known flaws.
(HTTP/2 and the ASGI worker are not used here.)
"""

from __future__ import annotations

from collections.abc import Callable

from gunicorn.http import wsgi

_default_headers: Callable[[wsgi.Response], list[str]] = wsgi.Response.default_headers


def _default_headers_without_server(self: wsgi.Response) -> list[str]:
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _default_headers_without_server  # type: ignore[method-assign]  # gunicorn has no setting for its Server header
