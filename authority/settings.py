"""Django settings: 12-factor, from environment variables with embedded defaults (SPEC §7).

`DJANGO_ENV=production` turns development conveniences off and makes SECRET_KEY and ALLOWED_HOSTS
required. Without DATABASE_URL the database is SQLite under var/; without REDIS_URL the cache is
local memory and Celery uses a broker that needs no server.

The authority's own options are the `AUTHORITY` dict, read through authority.conf's
`authority_settings` over its DEFAULTS. Importing this module writes nothing: var/ and its
contents are made where they are first needed (the SQLite backend, the development SECRET_KEY,
the Celery app, `manage.py hsm_init`, the key store).
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import environ
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import lazy

from authority.conf import DEFAULTS as AUTHORITY_DEFAULTS
from authority.logs import logging_config
from authority.private_files import private_directory

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# The authority's own options (authority.conf.authority_settings): only those the environment
# sets, so that each default is written once, in authority.conf.DEFAULTS.
# setting: (environment variable, how its text becomes the value)
_AUTHORITY_VARIABLES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "PRODUCTION": ("DJANGO_ENV", lambda value: value == "production"),
    "VAR_DIR": ("SA_VAR_DIR", Path),
    "REDIS_URL": ("REDIS_URL", str),
    "EPOCH_DURATION": ("EPOCH_DURATION", int),
    "EPOCH_ORIGIN": ("EPOCH_ORIGIN", str),
    "ACCESS_TOKEN_TTL": ("ACCESS_TOKEN_TTL", int),
    "SESSION_RENEW_PERIOD": ("SESSION_RENEW_PERIOD", int),
    "SESSION_MAX_LIFETIME": ("SESSION_MAX_LIFETIME", int),
    "AUDIT_KEY": ("AUDIT_KEY", str),
    "AUDIT_KEY_FALLBACKS": (
        "AUDIT_KEY_FALLBACKS",
        lambda value: [key.strip() for key in value.split(",") if key.strip()],
    ),
    "ISSUER": ("ACCESS_TOKEN_ISSUER", str),
    "ACCESS_TOKEN_AUDIENCE": ("ACCESS_TOKEN_AUDIENCE", str),
    "PROOF_WINDOW": ("PROOF_WINDOW", int),
    "AUDIT_RETENTION_DAYS": ("AUDIT_RETENTION_DAYS", int),
    "AUDIT_STREAM": ("AUDIT_STREAM", str),
    "AUDIT_FAIL_CLOSED": ("AUDIT_FAIL_CLOSED", lambda value: value.lower() in {"1", "true", "yes"}),
    "AUDIT_VERIFY_SAMPLE": ("AUDIT_VERIFY_SAMPLE", float),
    "AUDIT_DECISION_BATCH": ("AUDIT_DECISION_BATCH", int),
    "AUDIT_DECISION_BATCH_SECONDS": ("AUDIT_DECISION_BATCH_SECONDS", float),
    "METRICS_TOKEN": ("METRICS_TOKEN", str),
    "METRICS_ALLOWED_ADDRESSES": (
        "METRICS_ALLOWED_ADDRESSES",
        lambda value: [address.strip() for address in value.split(",") if address.strip()],
    ),
    "CLIENT_TOKEN_IDLE_TIMEOUT": ("CLIENT_TOKEN_IDLE_TIMEOUT", int),
    "CLIENT_TOKEN_MAX_AGE": ("CLIENT_TOKEN_MAX_AGE", int),
    "LOGIN_THROTTLE": ("THROTTLE_LOGIN", str),
    "LOGIN_ADDRESS_THROTTLE": ("THROTTLE_LOGIN_ADDRESS", str),
    "NUM_PROXIES": ("NUM_PROXIES", int),
    "CLIENT_SECRET_PEPPERS": (
        "CLIENT_SECRET_PEPPERS",  # `1:pepper,2:pepper`; the highest number is current
        lambda value: {
            int(number): pepper
            for number, _, pepper in (item.strip().partition(":") for item in value.split(","))
            if pepper
        },
    ),
    "OAUTH2_REFRESH_TOKEN_LIFETIME": ("OAUTH2_REFRESH_TOKEN_LIFETIME", int),
    "OAUTH2_TOKEN_THROTTLE": ("THROTTLE_OAUTH2_TOKEN", str),
    "OAUTH2_TOKEN_ADDRESS_THROTTLE": ("THROTTLE_OAUTH2_TOKEN_ADDRESS", str),
    "HSM_KEYSTORE": ("HSM_BACKEND", str),
    "HSM_MODULE": ("HSM_MODULE", str),
    "HSM_TOKEN_LABEL": ("HSM_TOKEN_LABEL", str),
    "HSM_PIN": ("HSM_PIN", str),
    "HSM_PIN_FILE": ("HSM_PIN_FILE", str),
    "HSM_SO_PIN_FILE": ("HSM_SO_PIN_FILE", str),
    "HSM_SOFTWARE_KEY": ("HSM_SOFTWARE_KEY", str),
}
AUTHORITY = {
    setting: env.get_value(variable, cast=cast)
    for setting, (variable, cast) in _AUTHORITY_VARIABLES.items()
    if variable in env
}
# What Django's settings below derive from the same options.
_production: bool = AUTHORITY.get("PRODUCTION", AUTHORITY_DEFAULTS["PRODUCTION"])
_var_dir = Path(AUTHORITY.get("VAR_DIR", AUTHORITY_DEFAULTS["VAR_DIR"]))
_redis_url: str = AUTHORITY.get("REDIS_URL", AUTHORITY_DEFAULTS["REDIS_URL"])

DEBUG = env.bool("DEBUG", default=not _production)


_development_secret_key_file = _var_dir / "secret_key"


@functools.cache
def _development_secret_key() -> str:
    """A random key kept in the ignored var/ directory, so development sessions (and the keys
    derived from it: audit, software key store) survive restarts. Written on first use, not at
    import; the first of several processes starting together to link its file in wins."""
    path = _development_secret_key_file
    if not path.exists():
        private_directory(path.parent)
        draft = path.with_name(f".secret_key.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


if _production:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")
else:
    # Read when it exists; else a lazy string that writes it when first used (and that costs a
    # call on each use, until the next start reads the file).
    SECRET_KEY = env.str("SECRET_KEY", default="") or (
        _development_secret_key_file.read_text().strip()
        if _development_secret_key_file.exists()
        else lazy(_development_secret_key, str)()
    )
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

# Keys SECRET_KEY was rotated from: Django still accepts what they signed, and the audit log
# still verifies the rows their derived audit keys MACed.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

INSTALLED_APPS = [
    "authority.console.apps.ConsoleAdminConfig",  # django.contrib.admin, the dashboard as index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",  # admin login lockout (authority/admin_lockout.py)
    "authority",
    "hsm",
    "tokens",
]

MIDDLEWARE = [
    "authority.request_context.RequestIdMiddleware",
    # Metrics of every API answer, audit rows of refusals, fail-closed 503s (api/observe.py).
    "authority.api.observe.ObservationMiddleware",
    "authority.api.edge.InputEdgeMiddleware",  # body size, NUL bytes: before anything reads them
    "tokens.api.authentication.ClientTokenMiddleware",  # X-Authority-Token (flow 8)
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin, API docs) from STATIC_ROOT after collectstatic, in any server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "authority.api.edge.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out admin login into its 429
]

ROOT_URLCONF = "authority.urls"
WSGI_APPLICATION = "authority.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{_var_dir / 'authority.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend plus prepared hot-path statements and a health check without a round
    # trip (authority/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "authority.db.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, making the database's folder (var/) when it connects.
    DATABASES["default"]["ENGINE"] = "authority.db.sqlite3"
    # WAL lets the web server and the Celery worker share the file; IMMEDIATE avoids
    # "database is locked" on read-then-write transactions.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

if _redis_url:
    CACHES = {"default": {"BACKEND": "authority.cache.RedisCache", "LOCATION": _redis_url}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # Not a check: a saved new password ends the user's client tokens (flow 8).
    {"NAME": "tokens.services.client_sessions.PasswordChangeEndsClientSessions"},
]
# Admin login lockout (django-axes; authority/admin_lockout.py says why so configured).
AUTHENTICATION_BACKENDS = [
    "authority.admin_lockout.AdminLoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15.0) / 60  # hours, as axes reads it
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "authority.admin_lockout.axes_client_address"
AXES_LOCKOUT_CALLABLE = "authority.admin_lockout.lockout_response"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # successes are in the audit log; axes keeps the failures only
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = _var_dir / "static"
LOGIN_URL = "admin:login"
# The largest body accepted (bytes); larger ones are refused with 413 from their Content-Length
# (authority/api/edge.py). The largest input of the API, a 1,000-record eACL table, is ~100 KB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

if _production:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # HTTPS only: plain HTTP is redirected (but the probes, which call the pod directly), and
    # browsers are told to remember it (HSTS).
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 86400)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Whether a request came in over HTTPS, as the reverse proxy in front says: trusted only when
# one is configured (NUM_PROXIES, or the header named outright), since a client could send it.
_proxy_ssl_header = env.str(
    "SECURE_PROXY_SSL_HEADER",
    default="X-Forwarded-Proto" if AUTHORITY.get("NUM_PROXIES", 0) > 0 else "",
)
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
# Sent with every response (authority/api/edge.py). Scripts, styles and images come from this
# origin only (the admin's and Swagger UI's, from drf-spectacular-sidecar); inline styles stay
# allowed for Swagger UI; "" sends none.
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: its challenge is the WWW-Authenticate of every 401 (flow 8).
        "tokens.api.authentication.ClientTokenAuthentication",
        "authority.api.bearer.BearerAuthentication",  # DOT's, from the header only, remembered
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["authority.api.permissions.IsPrincipal"],
    "DEFAULT_SCHEMA_CLASS": "authority.api.schema.AuthoritySchema",
    "DEFAULT_PAGINATION_CLASS": "authority.api.common.ListPagination",  # limit 1..500
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "authority.api.errors.exception_handler",
    # Depth- and NUL-checked (authority/api/parsers.py); every view takes these.
    "DEFAULT_PARSER_CLASSES": [
        "authority.api.parsers.JSONParser",
        "authority.api.parsers.FormParser",
        "authority.api.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {
        # Per session token; the *_address buckets per client address (looser: many sessions
        # of one batch cluster share its NAT's address).
        "trade": env.str("THROTTLE_TRADE", default="600/minute"),
        "token": env.str("THROTTLE_TOKEN", default="600/minute"),
        "trade_address": env.str("THROTTLE_TRADE_ADDRESS", default="6000/minute"),
        "token_address": env.str("THROTTLE_TOKEN_ADDRESS", default="6000/minute"),
        "introspect": env.str("THROTTLE_INTROSPECT", default="1200/minute"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Session Authority API",
    "DESCRIPTION": "Delegated, time-bound NeoFS/FrostFS sessions, bearer grants and access tokens.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "SCOPES": {"authority": "Use the session authority API"},
    "PKCE_REQUIRED": True,
    # Client secrets under HMAC-SHA256 with a pepper, not PBKDF2 (services/oauth2_clients.py).
    "CLIENT_SECRET_HASHER": "hmac_sha256",
    "OAUTH2_VALIDATOR_CLASS": "authority.services.oauth2_clients.AuthorityOAuth2Validator",
    "ACCESS_TOKEN_GENERATOR": "authority.services.oauth2_clients.token_generate",
    "REFRESH_TOKEN_GENERATOR": "authority.services.oauth2_clients.token_generate",
    # RFC 9700: only a checksum of each token at rest; no token in a URL's query.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "REFRESH_TOKEN_EXPIRE_SECONDS": AUTHORITY.get(
        "OAUTH2_REFRESH_TOKEN_LIFETIME", AUTHORITY_DEFAULTS["OAUTH2_REFRESH_TOKEN_LIFETIME"]
    ),
}
# The client-secret hasher is found here by its name; never first (user passwords keep PBKDF2).
PASSWORD_HASHERS = [
    *global_settings.PASSWORD_HASHERS,
    "authority.services.oauth2_clients.ClientSecretHasher",
]

CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL",
    default=_redis_url or "filesystem://",
)
# A broker that is down must not hold a request up (issue 17: ~6 s per send): one short connect
# attempt, no retries; the task is left to the periodic schedules (authority.dispatch).
CELERY_BROKER_CONNECTION_TIMEOUT = 0.1
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"socket_connect_timeout": 0.1, "socket_timeout": 0.5, "max_retries": 0}
    if _redis_url or "CELERY_BROKER_URL" in env
    else {  # made by the Celery app (authority/celery.py) when it is configured
        "data_folder_in": str(_var_dir / "broker"),
        "data_folder_out": str(_var_dir / "broker"),
        "processed_folder": str(_var_dir / "broker-processed"),
        "control_folder": str(_var_dir / "broker-control"),  # kombu's default is ./control
    }
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# One line per event, JSON in production, the request id in every line (authority/logs.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if _production else "plain")
LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"), form=LOG_FORMAT)

# Named explicitly so that the tenancy models' migrations can refer to it.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
