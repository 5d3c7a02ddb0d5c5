"""The environment the benchmark scripts share (scripts/bench_dataset.py, bench_pages.py).

Fixed, public, benchmark-only values: a database built with these keys can only be
read by a server started with the same ones. Never use them for real data.
"""

from __future__ import annotations

import base64
import hashlib
import os

# 32 bytes derived from a public string: the data set's encrypted columns (message
# bodies) are written with it and the benchmarked server reads them with it.
_FIELD_KEY = base64.b64encode(hashlib.sha256(b"tether-benchmark-field-key").digest()).decode()

BENCH_ENV: dict[str, str] = {
    "SECRET_KEY": "tether-benchmark-only-secret-key-not-for-real-data-0123456789",
    "TETHER_FIELD_KEYS": f"bench:{_FIELD_KEY}",
    "TETHER_DEMO": "1",  # the demo clinic's logins (its public password)
    "TETHER_STAFF_MFA_REQUIRED": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "STATIC_MANIFEST": "0",
    "LOG_LEVEL": "WARNING",
}


def apply(database_url: str, *, debug: bool) -> None:
    """Set the benchmark environment in this process (before Django is set up)."""
    os.environ.update(BENCH_ENV)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "1" if debug else "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tether.settings")
