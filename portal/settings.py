"""Settings for Booker Portal.

One file, driven by the environment. With nothing set it runs embedded (SQLite, eager Celery,
email to files, offline payments, DEBUG on); the production shape comes from env vars.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from portal import deploy

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A boolean that rejects anything but a clear yes or no, naming the variable."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_secret(name: str, default: str = "") -> str:
    """Read NAME, or the file named by NAME_FILE (for Docker/Kubernetes secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points at {path!r}, which cannot be read: {exc}"
            ) from None
    return os.environ.get(name, default)


def env_database(name: str, default: str) -> dict:
    raw = os.environ.get(name) or default
    scheme = raw.split(":", 1)[0]
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// or sqlite:/// URL, not one starting {scheme!r}."
        )
    try:
        return environ.Env.db_url_config(raw)
    except Exception as exc:  # environ raises several types for a malformed URL
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None


DEBUG = env_bool("DJANGO_DEBUG", default=True)
# Under pytest: fast hashing and plain static storage (the manifest needs collectstatic).
TESTING = env_bool("PORTAL_TESTING", default="pytest" in sys.modules)

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-embedded-demo-key-never-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# How often a subscribed calendar is asked to fetch the booker's feed again (calendars app).
CALENDAR_FEED_REFRESH = timedelta(minutes=15)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials.apps.SimpleAppConfig",
    "django_htmx",
    "csp",
    "allauth",
    "allauth.account",
    "portal",
    "accounts",
    "bookings",
    "calendars",
    "memberships",
    "passes",
    "vouchers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.HtmxMessagesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
            # Cached: without it every render reads and parses every template again (issue 12).
            # Django's cached loader still reloads changed templates under the dev server.
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60 if not DEBUG else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The demo's runserver answers requests in threads. A transaction that reads and then writes
    # gets an immediate "database is locked" if another did the same, whatever the timeout; begun
    # IMMEDIATE, each takes the write lock at once and the others wait (up to 20 s) for it.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
if USING_POSTGRES:
    # Cost random reads as on SSD / cached data: with the default 4.0 the planner seq-scans every
    # event to join a busy booker's bookings (10 ms at a million bookings, 1.5 ms with this).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c random_page_cost=1.1")
    # Send parameters apart from the SQL and let psycopg prepare a statement once this connection
    # has run it 5 times: Postgres then plans it once, not on every run. Planning was most of the
    # database's work on our hot queries (0.36 ms to plan a booking's 3-table lookup that runs in
    # 0.04 ms); email fan-out and booking under contention both repeat the same few statements.
    # Behind PgBouncer in transaction mode (which cannot keep prepared statements), set
    # DATABASE_PREPARED_STATEMENTS=false.
    if env_bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
    # `.iterator()` outside a transaction uses a cursor WITH HOLD, which lives on one server
    # connection after its transaction: behind PgBouncer in transaction mode set this false too.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = not env_bool(
        "DATABASE_SERVER_SIDE_CURSORS", default=True
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must be a redis:// URL, not {REDIS_URL!r}.")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis is the broker when configured; otherwise tasks run eagerly in-process so the
# embedded demo needs no service. on_commit still defers them until the transaction commits.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None  # fire-and-forget by default
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL or TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Our tasks mostly wait (on Postgres, the mail server, Stripe), so a worker runs two processes per
# CPU, each with a few tasks reserved so that it never idles waiting on Redis between two. The
# fan-out benchmark (issue 12, bench/RESULTS.md): two processes reserving one task each sent about
# 190 emails/s, four reserving four 190-240. Acked late, the tasks a worker reserved go back to the
# queue when it stops, and after the visibility timeout (below) when it is killed.
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 2 * (os.cpu_count() or 1))
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 4)
# Celery's Django fixup closes the database connection around every task unless this is set;
# portal/celery.py closes old connections per task the way Django does per request instead.
CELERY_DB_REUSE_MAX = 1_000_000
# How long Redis waits before handing an unacknowledged task (its worker died) to another worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# celery beat's periodic jobs, all here (tests/portal/test_beat_schedule.py checks each names a real task).
CELERY_BEAT_SCHEDULE = {
    # Expired waiting-list offers pass to the next person; raised capacities get offered.
    "waiting-list-offers": {"task": "bookings.tasks.waiting_list_offer_due", "schedule": 600.0},
    # Offers of a ticket (Give a ticket) that ran out unaccepted close; their givers are told.
    "ticket-gifts-expire": {"task": "bookings.tasks.ticket_gifts_expire_due", "schedule": 600.0},
    # A card refund held while the booker could take credit instead is paid once the offer runs out.
    "refunds-after-credit-offer": {
        "task": "bookings.tasks.refunds_pay_after_credit_offer",
        "schedule": 900.0,
    },
    # Offline memberships renew or end at their period's end; Stripe does its own and tells us.
    "memberships-advance-due": {"task": "memberships.tasks.membership_advance_due", "schedule": 3600.0},
    # A pause ends on its chosen day (offline; with Stripe too, in case its webhook is late).
    "memberships-pause-end-due": {"task": "memberships.tasks.membership_pause_end_due", "schedule": 3600.0},
    # A lost webhook shows up by morning: Stripe memberships compared with Stripe, mismatches logged
    # as warnings (see memberships/reconcile.py).
    "memberships-reconcile": {
        "task": "memberships.tasks.membership_reconcile",
        "schedule": crontab(hour=3, minute=17),
    },
    # Reminder emails that fell due (the organisers' rules: 24 h and/or 2 h before) go out once each.
    "calendars-reminders-due": {"task": "calendars.tasks.reminders_due", "schedule": 300.0},
    # Stripe events whose task gave up (or was never queued) are applied again.
    "stripe-event-sweep": {"task": "portal.tasks.stripe_event_sweep", "schedule": 300.0},
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    # allauth's email login, refusing an address that is still waiting to be verified.
    "accounts.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/portal/"
LOGOUT_REDIRECT_URL = "/"

# allauth: email is the login; a booker may also ask for a one-time code by email.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Mandatory: signing up logs no one in until the address is proved, so signup can answer the same
# for a known address (its owner is emailed instead: ACCOUNT_PREVENT_ENUMERATION needs this).
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True  # only the browser that signed up or typed the password
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_FORMS = {
    "reset_password": "accounts.forms.BookerResetPasswordForm",
    "request_login_code": "accounts.forms.BookerRequestLoginCodeForm",
    "add_email": "accounts.forms.BookerAddEmailForm",
}
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# One address per account: a new one is verified before it becomes the login; the old one is told.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_EMAIL_CONFIRMATION_AUTHENTICATED_REDIRECT_URL = "/portal/account/"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Booker Portal] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"

LANGUAGE_CODE = "en-gb"
# The portal's languages (portal.middleware.LanguageMiddleware picks one per request; locale/ holds
# the translations). Organiser content (titles, descriptions) stays as the organiser typed it.
LANGUAGES = [("en-gb", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Uploads (organiser logos, checked to be PNG, JPEG or WebP). Django serves them itself when
# SERVE_MEDIA is on (the default with DEBUG; fine for one host behind docker-compose). A larger
# deployment serves MEDIA_ROOT from its proxy or object storage (STORAGES["default"]) instead; a
# media host other than our own must then be added to the CSP's img-src.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "var" / "media")
SERVE_MEDIA = env_bool("SERVE_MEDIA", default=DEBUG)
FILE_UPLOAD_PERMISSIONS = 0o644

# Email: SMTP when EMAIL_HOST is set; otherwise one file per message under var/mail/ (echoed to
# the console only with DEBUG on). Production needs EMAIL_HOST, or EMAIL_TO_FILES=true to choose files.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_TO_FILES = env_bool("EMAIL_TO_FILES", default=False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Booker Portal <no-reply@bookerportal.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_FILE_PATH = Path(os.environ.get("EMAIL_FILE_PATH") or BASE_DIR / "var" / "mail")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "portal.mail.FileAndConsoleEmailBackend"

# Payments: PAYMENT_GATEWAY=stripe or offline; unset, Stripe when a secret key is set. The offline
# gateway accepts every payment, so only the demo (DEBUG on) falls back to it by itself.
STRIPE_SECRET_KEY = env_secret("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_secret("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
PAYMENT_GATEWAY = os.environ.get("PAYMENT_GATEWAY", "").strip().lower() or (
    "stripe" if STRIPE_SECRET_KEY else "offline" if DEBUG else ""
)
if PAYMENT_GATEWAY and (problem := deploy.payment_gateway_problem(PAYMENT_GATEWAY, STRIPE_SECRET_KEY)):
    raise ImproperlyConfigured(problem)

# The benchmarks' baseline page (/portal/baseline/): served with DEBUG on, or when bench/ asks.
BENCH_VIEWS = env_bool("BENCH_VIEWS", default=False)

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Security: strict by default in production; the embedded demo is plain http on localhost.
# Sessions are read from the cache (Redis in production) and written through to the database,
# so a portal page costs no session query; logout, password change and deletion still end them.
SESSION_ENGINE = "portal.sessions"  # cached_db (sessions survive a Redis restart)
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: forms and htmx (hx-headers in base.html) take the token from the page.
CSRF_COOKIE_HTTPONLY = True
SECURE_COOKIES = env_bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Who the client is, for every rate limit (allauth's and `portal.ratelimit`'s): behind the proxy
# every request comes from the proxy's address, and one client would spend everyone's budget.
# Either the number of proxies of ours that append to X-Forwarded-For, or the header our proxy
# sets to the client's address (X-Real-IP, CF-Connecting-IP). Unset: REMOTE_ADDR, when clients
# reach the app directly. A header the proxy does not overwrite could be set by anyone.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = os.environ.get("TRUSTED_CLIENT_IP_HEADER", "").strip() or None
if ALLAUTH_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
if ALLAUTH_TRUSTED_PROXY_COUNT and ALLAUTH_TRUSTED_CLIENT_IP_HEADER:
    raise ImproperlyConfigured("Set TRUSTED_PROXY_COUNT or TRUSTED_CLIENT_IP_HEADER, not both.")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HSTS preload is a commitment that is slow to undo (the browser lists outlive the setting), so it
# is opt-in with SECURE_HSTS_PRELOAD=true once the domain is settled; until then its warning is noise.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, so an
# injected <script>, onclick= or style= does nothing. htmx comes from static ({% htmx_script %})
# and its indicator style is in portal.css (base.html turns off htmx's injected <style>).
# No form-action: a booking POST redirects to Stripe Checkout, which form-action would block.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "portal.logging.RedactTokens"}},
    "formatters": {
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
        "server": {
            "class": "logging.StreamHandler",
            "formatter": "server",
            "filters": ["redact_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

# Production refuses what is only safe for the demo, naming every variable to set at once
# (portal/deploy.py; manage.py check reports the same as portal.E001-E003).
if not DEBUG and (
    problems := deploy.production_problems(
        secret_key=SECRET_KEY,
        payment_gateway=PAYMENT_GATEWAY,
        stripe_secret_key=STRIPE_SECRET_KEY,
        email_host=EMAIL_HOST,
        email_to_files=EMAIL_TO_FILES,
    )
):
    raise ImproperlyConfigured("Unsafe settings for DJANGO_DEBUG=false:\n  " + "\n  ".join(problems))
