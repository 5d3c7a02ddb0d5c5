"""Loaded by pytest before Django (``-p tether.testing.env`` in pyproject).

Sets the environment a test run needs, without overriding anything the
caller set (CI sets DATABASE_URL for PostgreSQL).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-" + "x" * 24)
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("TETHER_VAR_DIR", os.path.join(os.getcwd(), "var", "test"))
# A fixed, test-only field encryption key (never used outside the test suite).
os.environ.setdefault("TETHER_FIELD_KEYS", "test-2026:dGV0aGVyLXRlc3Qtb25seS1maWVsZC1rZXktMzJieXQ=")
