"""Tether settings: one module, every value from the environment.

Unsafe values are never defaults: DEBUG is off and SECRET_KEY must be given
unless DEBUG is turned on explicitly (the demo and local development do).
See docs/OPERATIONS.md for every variable.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dj_database_url
import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from tether.lib.crypto import field_keys_from_settings
from tether.lib.env import env_bool, env_int, env_list, env_str
from tether.organizations.hosts import default_host_entries, parse_host_organizations

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TETHER_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
TETHER_DEMO = env_bool("TETHER_DEMO", False)

_secret = env_str("SECRET_KEY", "")
if not _secret:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off.")
    _secret = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105 - DEBUG only
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# Which organization each host name serves ("portal.clinic.org=clinic-slug,..."): the
# signed-out crisis page lists only that organization's programs (docs/OPERATIONS.md).
# The demo maps 127.0.0.1 and localhost to the demo clinic.
TETHER_HOST_ORGANIZATIONS = parse_host_organizations(
    env_list("TETHER_HOST_ORGANIZATIONS", default_host_entries(demo=TETHER_DEMO))
)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # intcomma: "10,025 patients" on a program's lists
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks_db",
    "tether.accounts",
    "tether.organizations",
    "tether.patients",
    "tether.scheduling",
    "tether.privacy",
    "tether.crisis",
    "tether.portal",
    "tether.staff",
    "tether.notifications",
    "tether.messaging",
    "tether.demo",
    "tether.flags",
    "tether.checkins",
    "tether.safetyplan",
    "tether.homework",
    "tether.consent",
    "tether.family",
    "tether.fieldkeys",
    "tether.outreach",
    "tether.reports",
    "tether.fhir",
]

MIDDLEWARE = [
    "tether.lib.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tether.crisis.middleware.CrisisOfflineMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tether.accounts.language.UserLanguageMiddleware",
    "tether.privacy.middleware.AuditContextMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tether.accounts.middleware.ResolvedUserMiddleware",
    "tether.accounts.middleware.SessionTimeoutMiddleware",
    "tether.accounts.middleware.StaffMFAMiddleware",
    "tether.accounts.notices.AccountNoticeMiddleware",
    "tether.organizations.middleware.ProgramTimezoneMiddleware",
    "tether.consent.shared_device.SharedDeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "tether.lib.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tether.urls"
WSGI_APPLICATION = "tether.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tether" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "tether.crisis.context_processors.crisis_contacts",
                "tether.staff.context_processors.duty",
            ],
        },
    },
    {
        # Only for the rows of long lists, included by ``{% rows %}`` (tether/lib/jinja.py).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "APP_DIRS": True,
        "OPTIONS": {"environment": "tether.lib.jinja.environment"},
    },
]

# --- Database ---------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (production, CI); otherwise an embedded
# SQLite file for the demo and a first look.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tether.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs the web server, the worker and the scheduler on one file. WAL lets
    # readers run beside the one writer; IMMEDIATE takes the write lock when a
    # transaction starts, so a read-then-write never fails to upgrade its lock (the
    # "database is locked" that no wait can cure); a writer waits up to 20 s for the
    # lock instead of failing; synchronous=NORMAL is safe with WAL and much faster.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
else:
    _session_settings = []
    if not env_bool("DATABASE_JIT", False):
        # PostgreSQL's JIT compiles a query when its estimated cost crosses
        # jit_above_cost: worth it for long analytical queries, seconds lost on a page's
        # short ones (docs/BENCHMARKS.md, "Staff pages at 10,000 patients"). Off on every
        # connection unless DATABASE_JIT=1 (a batch process may turn it back on).
        _session_settings.append("-c jit=off")
    if env_bool("TETHER_WEB_PROCESS", False):
        # The web process (set by tether/wsgi.py and asgi.py): no parallel workers. A
        # page's statement that PostgreSQL plans in parallel (a lead's next sessions, in
        # the thousands of rows) spends longer starting a worker process than it saves
        # (14.4 -> 10.1 ms: docs/BENCHMARKS.md, "Pages, eighth pass"). The program reports
        # ask for them again in their own transaction (reports.sql.roomy); the worker,
        # the scheduler and management commands keep the server's setting.
        _session_settings.append("-c max_parallel_workers_per_gather=0")
        # An index read costs about what a sequential one does (an SSD, and a program's
        # working set in memory), not PostgreSQL's default 4x, which priced the board's
        # per-row look-ups (60 patients) above hashing a whole table: its statements' SQL
        # 20 -> 15 ms, the lead's flag queue 44 -> 32 ms (BENCHMARKS, eighth pass). Set
        # for the pages, whose plans were measured with it.
        _session_settings.append("-c random_page_cost=1.1")
        # The statements kept by tether.lib.statements send their values apart from
        # their text (server-side binding; their constants are in the text): planned
        # without looking at the values, PostgreSQL no longer estimates each id of a
        # list, most of a small statement's planning (the clinician's flag queue's
        # statements 17.6 -> 8.7 ms: BENCHMARKS, twelfth pass). Statements whose values
        # are quoted into their text (every other one: Django's client-side binding) are
        # unaffected.
        _session_settings.append("-c plan_cache_mode=force_generic_plan")
    if _session_settings:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = " ".join(_session_settings)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and authentication ---------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "tether.accounts.lockout.AddressLimitBackend",
    "tether.accounts.backends.UsernameOrEmailBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# ASVS 6.2.1/6.2.4/6.2.5: length and a common-password list, no composition rules.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 8, minimum=8)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout (ASVS 6.3.1; tether/accounts/lockout.py, docs/OPERATIONS.md "Sign-in pauses"):
# the ACCOUNT pauses after LOGIN_FAILURE_LIMIT wrong passwords from anywhere, for a short
# cool-off that doubles with each pause that day; an ADDRESS only after many failures
# across any names (a waiting room shares one Wi-Fi). A program admin or the privacy
# officer lifts a pause at once (audited).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
TETHER_LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 5, minimum=1)
TETHER_LOGIN_LOCKOUT_MAX_MINUTES = env_int("LOGIN_LOCKOUT_MAX_MINUTES", 60, minimum=1)
AXES_COOLOFF_TIME = "tether.accounts.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for "ip_address" above; the address is limited on purpose apart and far
# more loosely (tether.accounts.lockout.AddressLimitBackend), so that one clinic Wi-Fi is
# not locked out by a few patients' typos (issue 12 item 7).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tether.accounts.views.locked_out"
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "tether.accounts.backends.axes_username"  # case-insensitive counts
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
TETHER_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50, minimum=1)
TETHER_LOGIN_ADDRESS_WINDOW_MINUTES = env_int("LOGIN_ADDRESS_WINDOW_MINUTES", 15, minimum=1)
# The client address (tether/accounts/addresses.py): with PROXY_COUNT proxies in front,
# X-Forwarded-For is read only on requests from PROXY_TRUSTED_IPS (addresses or networks).
AXES_IPWARE_PROXY_COUNT = env_int("PROXY_COUNT", 0, minimum=0)
TETHER_TRUSTED_PROXIES = env_list("PROXY_TRUSTED_IPS", ["127.0.0.1/32", "::1/128"])
for _proxy in TETHER_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"PROXY_TRUSTED_IPS: {_proxy!r} is not an address or network."
        ) from error
AXES_CLIENT_IP_CALLABLE = "tether.accounts.addresses.client_address"

# Multi-factor: required for staff (ASVS 6.3.3), optional for patients.
TETHER_STAFF_MFA_REQUIRED = env_bool("TETHER_STAFF_MFA_REQUIRED", True)
OTP_TOTP_ISSUER = "Tether"

# Sessions (ASVS 7.2-7.4, ONC (d)(5)): a new session at login (Django does
# that), an idle time-out by kind of user and an absolute lifetime.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
TETHER_STAFF_IDLE_MINUTES = env_int("TETHER_STAFF_IDLE_MINUTES", 15, minimum=1)
TETHER_PATIENT_IDLE_MINUTES = env_int("TETHER_PATIENT_IDLE_MINUTES", 30, minimum=1)
TETHER_SESSION_ABSOLUTE_HOURS = env_int("TETHER_SESSION_ABSOLUTE_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = TETHER_SESSION_ABSOLUTE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True  # phones are shared: no remembered sessions
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_HTTPONLY = True

# Onboarding invites and front-desk reset codes.
TETHER_INVITE_VALID_HOURS = env_int("TETHER_INVITE_VALID_HOURS", 72, minimum=1)
# A staff member's authenticator set-up link (issue 13): single use, short-lived.
TETHER_STAFF_ENROLMENT_VALID_HOURS = env_int("TETHER_STAFF_ENROLMENT_VALID_HOURS", 24, minimum=1)
TETHER_RESET_CODE_VALID_HOURS = env_int("TETHER_RESET_CODE_VALID_HOURS", 24, minimum=1)
TETHER_RESET_CODE_MAX_ATTEMPTS = env_int("TETHER_RESET_CODE_MAX_ATTEMPTS", 5, minimum=1)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 3600, minimum=60)
# Reset-link emails: at most this many requests per email address and per client
# address in a window (counted whether or not the address has an account).
TETHER_RESET_EMAIL_PER_ADDRESS = env_int("TETHER_RESET_EMAIL_PER_ADDRESS", 3, minimum=1)
TETHER_RESET_EMAIL_PER_CLIENT = env_int("TETHER_RESET_EMAIL_PER_CLIENT", 10, minimum=1)
TETHER_RESET_EMAIL_WINDOW_MINUTES = env_int("TETHER_RESET_EMAIL_WINDOW_MINUTES", 60, minimum=1)

# --- Encryption at rest and emergency access (docs/PRIVACY.md) ---------------------
# TETHER_FIELD_KEYS (or TETHER_FIELD_KEYS_FILE): "keyid:base64key" entries, newest first.
# The newest encrypts, all decrypt. Without it only DEBUG or the demo start, with a key
# generated once into VAR_DIR/field-keys so the demo data survives restarts.
TETHER_FIELD_KEYS = field_keys_from_settings(
    env_str("TETHER_FIELD_KEYS", ""),
    demo_key_file=VAR_DIR / "field-keys" if DEBUG or TETHER_DEMO else None,
)
# Break-glass (ONC (d)(6), 42 CFR 2.51): how long an emergency access grant lasts.
TETHER_BREAK_GLASS_MINUTES = env_int("TETHER_BREAK_GLASS_MINUTES", 60, minimum=1)

# --- Transport and browser security (ASVS 3.x) ---------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# --- Background work (Django tasks; docs/OPERATIONS.md "Worker and scheduler") -------
# The database backend: `manage.py run_worker` runs tasks, `manage.py run_scheduler`
# enqueues the periodic sweeps (urgent-request escalation) every minute.
TASKS = {
    "default": {
        "BACKEND": env_str("TETHER_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
TETHER_SCHEDULER_INTERVAL_SECONDS = env_int("TETHER_SCHEDULER_INTERVAL_SECONDS", 60, minimum=5)
# The scheduler seals recorded audit events into their hash chain this often, and the
# background health check calls sealing "behind" when an event has waited longer than
# the lag limit (tether/privacy/sealer.py).
TETHER_AUDIT_SEAL_SECONDS = env_int("TETHER_AUDIT_SEAL_SECONDS", 2, minimum=1)
TETHER_AUDIT_SEAL_LAG_SECONDS = env_int("TETHER_AUDIT_SEAL_LAG_SECONDS", 120, minimum=10)
# Background work counts as stopped (/healthz/background 503, `check_background` exit 1,
# a banner for on-call, leads and admins) when the scheduler has not woken for this long
# or a ready task has waited this long for a worker (tether/crisis/health.py).
TETHER_SCHEDULER_STALE_MINUTES = env_int("TETHER_SCHEDULER_STALE_MINUTES", 5, minimum=2)
TETHER_TASK_WAIT_MINUTES = env_int("TETHER_TASK_WAIT_MINUTES", 5, minimum=1)
# A task that has run this long was abandoned by a killed worker: it is retried (3 runs
# in all), then failed. Also stopped: a task whose latest run failed in the last
# TETHER_TASK_FAILED_MINUTES with no later success (tether/crisis/resilience.py).
TETHER_TASK_RUNNING_MINUTES = env_int("TETHER_TASK_RUNNING_MINUTES", 10, minimum=2)
TETHER_TASK_FAILED_MINUTES = env_int("TETHER_TASK_FAILED_MINUTES", 60, minimum=5)
# A high flag nobody has acknowledged for this long is shown as overdue (staff banner,
# flag queue). A local service target, not a clinical standard: set it to your policy.
TETHER_HIGH_FLAG_ACK_HOURS = env_int("TETHER_HIGH_FLAG_ACK_HOURS", 24, minimum=1)

# --- Cache (rate limits) -----------------------------------------------------------------
# In-process memory by default: limits then count per gunicorn worker process. Set a
# shared cache (e.g. django.core.cache.backends.db.DatabaseCache after
# `manage.py createcachetable`, or Redis) to count across processes and machines.
CACHES = {
    "default": {
        "BACKEND": env_str("CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"),
        "LOCATION": env_str("CACHE_LOCATION", "tether"),
    }
}

# --- Internationalisation ----------------------------------------------------
# Phone numbers typed without "+" are read as numbers of this region (tether/lib/phones.py).
TETHER_PHONE_REGION = env_str("PHONE_REGION", "US")
if TETHER_PHONE_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(f"PHONE_REGION={TETHER_PHONE_REGION!r} is not a region code.")
LANGUAGE_CODE = "en-us"
# Patients and families choose their language (User.language, the switch at
# /accounts/language/); docs/I18N.md says how to add a string or a language.
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "tether" / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"  # storage; each program's time zone decides "today" for its patients
USE_TZ = True

# --- Static files ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "tether" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Email (Django 6.1 mailers) ---------------------------------------------------
_smtp_options: dict[str, object] = {
    "host": env_str("EMAIL_HOST", "localhost"),
    "port": env_int("EMAIL_PORT", 25, minimum=1),
    "use_tls": env_bool("EMAIL_USE_TLS", False),
}
if env_str("EMAIL_HOST_USER", ""):
    _smtp_options["username"] = env_str("EMAIL_HOST_USER")
    _smtp_options["password"] = env_str("EMAIL_HOST_PASSWORD", "")
_email_backend = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": _smtp_options if _email_backend.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tether <no-reply@localhost>")

# --- Logging: no PHI, ever (ASVS 16.2.5) ---------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request logs carry URLs and (with DEBUG) bodies; URLs hold no PHI by design.
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}

# --- Outreach: texts, push, e-mail reminders (tether/outreach, docs/OUTREACH.md) -------
# "console" keeps every message in the outbox table only (demo, tests: nothing leaves);
# "twilio" sends texts through Twilio's REST API. Secrets also from NAME_FILE.
TETHER_SMS_BACKEND = env_str("TETHER_SMS_BACKEND", "console")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
# The public base URL Twilio posts to (behind a proxy: what Twilio sees, not the
# internal address); signatures are validated against it.
TETHER_PUBLIC_BASE_URL = env_str("TETHER_PUBLIC_BASE_URL", SITE_URL).rstrip("/")
# The name of the messaging programme as texts and HELP say it (CTIA): a neutral brand,
# never the treatment program's name, which could disclose care on a lock screen.
TETHER_SMS_BRAND = env_str("TETHER_SMS_BRAND", "Tether")
TETHER_SMS_HELP_PHONE = env_str("TETHER_SMS_HELP_PHONE", "")
TETHER_PUSH_BACKEND = env_str("TETHER_PUSH_BACKEND", "console")
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY", "")
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY", "")
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "mailto:no-reply@localhost")
TETHER_OUTREACH_LINK_MINUTES = env_int("TETHER_OUTREACH_LINK_MINUTES", 60 * 24, minimum=5)
