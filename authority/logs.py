"""Log lines: one JSON object per line in production (`LOG_FORMAT=json`), plain text in
development (`LOG_FORMAT=plain`), the request id in every line, and no token in any.

- `RequestIdFilter` puts the request id (authority.request_context) on every record, so both
  formats print it; lines written outside a request carry `-`.
- `JSONFormatter` writes time, level, logger, message, request id and the record's `extra`
  fields (`logger.info("...", extra={"status": 404})`); a traceback only when the record carries
  one (an unexpected error), as one escaped string in the same line.
- Both formatters pass the message through `redact`: whatever looks like a credential the
  authority deals in (delegation `sa1.` tokens, client `sac1.` tokens, JWTs, `Bearer`/`Token`/
  `Basic` authorization values) becomes `[redacted]`, so a careless message cannot leak one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from authority.request_context import current_request

_CREDENTIALS = re.compile(
    r"\bsac?1\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-.]+"  # delegation (sa1.) and client (sac1.) tokens
    r"|\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"  # JWTs
    r"|\b(?:Bearer|Token|Basic)\s+[A-Za-z0-9_\-.~+/=]+",  # Authorization values
)
REDACTED = "[redacted]"

# The attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


def redact(text: str) -> str:
    return _CREDENTIALS.sub(REDACTED, text)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request().request_id or "-"
        return True


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or "-",
            "message": redact(record.getMessage()),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in line:
                line[name] = value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, separators=(",", ":"))


def logging_config(*, level: str, form: str) -> dict[str, Any]:
    """Django's LOGGING: one handler (stderr) on the root logger, and Django's own loggers
    sending to it only (Django's default configuration gives them a second console handler,
    which printed every warning twice). `django.request` and `django.server` say what the
    request log line of authority.api.observe already says for 4xx answers; they keep 5xx only,
    with the traceback of the unexpected error."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "authority.logs.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "authority.logs.JSONFormatter"},
            "plain": {"()": "authority.logs.PlainFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if form == "json" else "plain",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.request": {"handlers": [], "level": "ERROR", "propagate": True},
            "django.server": {"handlers": [], "level": "ERROR", "propagate": True},
            "django.db.backends": {"level": "WARNING"},
        },
    }
