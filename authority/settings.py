"""Django settings: 12-factor, from environment variables with embedded defaults (SPEC §7).

`DJANGO_ENV=production` turns development conveniences off and makes SECRET_KEY and ALLOWED_HOSTS
required. Without DATABASE_URL the database is SQLite under var/; without REDIS_URL the cache is
local memory and Celery uses a broker that needs no server.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SA_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
PRODUCTION = env.str("DJANGO_ENV", default="development") == "production"
DEBUG = env.bool("DEBUG", default=not PRODUCTION)


def _development_secret_key() -> str:
    """A random key kept in the ignored var/ directory, so development sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret_key()
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
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
    "authority",
    "hsm",
    "tokens",
]

MIDDLEWARE = [
    "authority.request_context.RequestIdMiddleware",
    "tokens.api.authentication.ClientTokenMiddleware",  # X-Authority-Token (flow 8)
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'authority.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend plus prepared hot-path statements and a health check without a round
    # trip (authority/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "authority.db.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the Celery worker share the file; IMMEDIATE avoids
    # "database is locked" on read-then-write transactions.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "authority.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
LOGIN_URL = "admin:login"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: its challenge is the WWW-Authenticate of every 401 (flow 8).
        "tokens.api.authentication.ClientTokenAuthentication",
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["authority.api.permissions.IsPrincipal"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "authority.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {
        "trade": env.str("THROTTLE_TRADE", default="600/minute"),
        "token": env.str("THROTTLE_TOKEN", default="600/minute"),
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
}

# The authority's own settings, read through authority.conf.authority_settings.
AUTHORITY = {
    "EPOCH_DURATION": env.int("EPOCH_DURATION", default=240),
    "EPOCH_ORIGIN": env.str("EPOCH_ORIGIN", default="2024-01-01T00:00:00+00:00"),
    "ACCESS_TOKEN_TTL": env.int("ACCESS_TOKEN_TTL", default=15 * 60),
    "SESSION_RENEW_PERIOD": env.int("SESSION_RENEW_PERIOD", default=24 * 3600),
    "SESSION_MAX_LIFETIME": env.int("SESSION_MAX_LIFETIME", default=7 * 24 * 3600),
    "AUDIT_KEY": env.str("AUDIT_KEY", default=""),
    "ISSUER": env.str("ACCESS_TOKEN_ISSUER", default="session-authority"),
    "ACCESS_TOKEN_AUDIENCE": env.str("ACCESS_TOKEN_AUDIENCE", default="neofs"),
    "PROOF_WINDOW": env.int("PROOF_WINDOW", default=60),
    "AUDIT_RETENTION_DAYS": env.int("AUDIT_RETENTION_DAYS", default=365),
    "CLIENT_TOKEN_IDLE_TIMEOUT": env.int("CLIENT_TOKEN_IDLE_TIMEOUT", default=30 * 60),
    "CLIENT_TOKEN_MAX_AGE": env.int("CLIENT_TOKEN_MAX_AGE", default=12 * 3600),
    "LOGIN_THROTTLE": env.str("THROTTLE_LOGIN", default="10/minute"),
}

# The key store (hsm app). Without HSM_BACKEND: PKCS#11 when a module is found (SoftHSM2's by
# default), else — in development only — the software store, labelled "not hardware-backed".
HSM = {
    "BACKEND": env.str("HSM_BACKEND", default=""),
    "MODULE": env.str("HSM_MODULE", default=""),
    "TOKEN_LABEL": env.str("HSM_TOKEN_LABEL", default="session-authority"),
    "PIN": env.str("HSM_PIN", default=""),
    "PIN_FILE": env.str("HSM_PIN_FILE", default=str(VAR_DIR / "hsm" / "user.pin")),
    "SO_PIN_FILE": env.str("HSM_SO_PIN_FILE", default=str(VAR_DIR / "hsm" / "so.pin")),
    "SOFTWARE_KEY": env.str("HSM_SOFTWARE_KEY", default=""),
}
# The project's own SoftHSM2 token lives under var/ (made by `manage.py hsm_init`), never in the
# system's token directory. SoftHSM2 reads this variable when the module is initialised.
os.environ.setdefault("SOFTHSM2_CONF", str(VAR_DIR / "softhsm" / "softhsm2.conf"))

CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL",
    default=REDIS_URL or "filesystem://",
)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {}
    if REDIS_URL or "CELERY_BROKER_URL" in env
    else {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),  # kombu's default is ./control
    }
)
for _folder in ("broker", "broker-processed", "broker-control"):
    (VAR_DIR / _folder).mkdir(exist_ok=True)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Named explicitly so that the tenancy models' migrations can refer to it.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
