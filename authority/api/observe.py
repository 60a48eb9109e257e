"""What every API answer leaves behind: its refusal in the audit log, its metrics, and — in
fail-closed mode — a 503 before a state-changing request runs while no audit sink can record.

Refusals are audited here, in one place, rather than in each view: the middleware sees the
answer after the view has returned, when the service's own transaction has already rolled back
(the project does not use ATOMIC_REQUESTS), so the refusal's row is written on its own and
survives. Successes are audited by the services, in the transaction of what they record.

Which answers count as which decision is the table `OPERATIONS` below: a URL name and a method
map to an audited action; everything else is the operation `other` in the metrics and leaves no
audit row of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse

from authority import metrics
from authority.api.errors import error_body
from authority.conf import authority_settings
from authority.errors import Unavailable
from authority.request_context import current_request
from authority.services.audit import AuditAction, Outcome, audit_record, outcome_for_status
from authority.services.audit.stream import sink_health

logger = logging.getLogger(__name__)
requests_logger = logging.getLogger("authority.requests")

# (URL name, method) → the audited action, and the request field holding the token it concerns
# (fingerprinted, never stored).
OPERATIONS: dict[tuple[str, str], tuple[AuditAction, str]] = {
    ("session-list", "POST"): (AuditAction.SESSION_ISSUE, ""),
    ("session-renew", "POST"): (AuditAction.SESSION_RENEW, ""),
    ("session-cancel", "POST"): (AuditAction.SESSION_CANCEL, ""),
    ("session-renewal-schedule", "POST"): (AuditAction.RENEWAL_SCHEDULE_SET, ""),
    ("session-dynamic", "POST"): (AuditAction.SESSION_CREATE_DYNAMIC, ""),
    ("session-complete", "POST"): (AuditAction.SESSION_COMPLETE, ""),
    ("session-sign", "POST"): (AuditAction.SESSION_SIGN, ""),
    ("session-import", "POST"): (AuditAction.SESSION_IMPORT, ""),
    ("bearer-grant-list", "POST"): (AuditAction.BEARER_GRANT_ISSUE, ""),
    ("bearer-grant-revoke", "POST"): (AuditAction.BEARER_GRANT_REVOKE, ""),
    ("trade", "POST"): (AuditAction.SESSION_TRADE, "subject_token"),
    ("token-exchange", "POST"): (AuditAction.SESSION_EXCHANGE, "subject_token"),
    ("introspect", "POST"): (AuditAction.ACCESS_TOKEN_INTROSPECT, "token"),
    ("revoke", "POST"): (AuditAction.ACCESS_TOKEN_REVOKE, "token"),
    ("verify", "POST"): (AuditAction.REQUEST_VERIFY, ""),
}
# RFC 6749 §5.2 answers a refused grant with 400, like a malformed request: it is a denial.
_DENIED_AS_INVALID_REQUESTS = frozenset({"invalid_grant"})
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LONGEST_TOKEN = 8192  # the API's own bound on a token field
_LONGEST_NAME = 64


class ObservationMiddleware:
    """Metrics for every API request; an audit row for every refused audited operation."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        began = time.perf_counter()
        if not request.path.startswith("/api/"):
            answer = self.get_response(request)
            _log_request(request, answer, "", began)
            return answer
        if (
            authority_settings.AUDIT_FAIL_CLOSED
            and request.method in _STATE_CHANGING
            and not sink_health.any_can_record()
        ):
            response: HttpResponse = _audit_unavailable()
        else:
            response = self.get_response(request)
        match = request.resolver_match
        operation = OPERATIONS.get((match.url_name or "", request.method or "")) if match else None
        status = response.status_code
        outcome = outcome_for_status(status)
        label = operation[0].value if operation else "other"
        metrics.requests_total.labels(label, outcome.value).inc()
        metrics.request_seconds.labels(label).observe(time.perf_counter() - began)
        if status == 429:
            metrics.throttled_total.labels(label).inc()
        if operation is not None and outcome is not Outcome.SUCCESS:
            _audit_refusal(request, response, operation, outcome, match.kwargs if match else {})
        _log_request(request, response, label, began)
        return response


def _log_request(
    request: HttpRequest, response: HttpResponse, operation: str, began: float
) -> None:
    """The request's one log line (its request id added by authority.logs): the path without
    its query string, which could carry a credential."""
    status = response.status_code
    requests_logger.log(
        logging.INFO if status < 400 else logging.WARNING,
        "%s %s %d",
        request.method,
        request.path,
        status,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "operation": operation,
            "outcome": outcome_for_status(status).value,
            "duration_ms": round((time.perf_counter() - began) * 1000, 2),
            "actor": current_request().actor or "anonymous",
        },
    )


def _audit_unavailable() -> JsonResponse:
    error = Unavailable("No audit sink can record; state-changing requests are refused.")
    response = JsonResponse(error_body(error.code, error.detail), status=error.status)
    response["Retry-After"] = str(error.retry_after)
    return response


def _audit_refusal(
    request: HttpRequest, response: HttpResponse, operation: tuple[AuditAction, str],
    outcome: Outcome, kwargs: dict[str, Any],
) -> None:  # fmt: skip
    action, token_field = operation
    body = getattr(response, "data", None)
    reason = body.get("error") if isinstance(body, dict) else None
    if reason in _DENIED_AS_INVALID_REQUESTS:
        outcome = Outcome.DENIED
    fields = body.get("fields") if isinstance(body, dict) else None
    detail: dict[str, Any] = {"status": response.status_code}
    if isinstance(fields, dict) and fields:
        detail["fields"] = sorted(str(name)[:_LONGEST_NAME] for name in fields)[:8]
    object_id = next((str(value)[:100] for value in kwargs.values()), "")
    try:
        audit_record(
            actor=current_request().actor or "anonymous",
            owner=None,  # a refusal may concern another owner's object: the authority's chain
            action=action,
            object_type=action.value.split(".", 1)[0],
            object_id=object_id,
            outcome=outcome,
            reason=str(reason)[:_LONGEST_NAME] if reason else f"status_{response.status_code}",
            token=_token(response, token_field),
            detail=detail,
            synchronous=False,
        )
    except DatabaseError:  # counted by the sink; the stream, if any, has the line
        logger.warning("audit: a refusal of %s could not be recorded in the database", action)


def _token(response: HttpResponse, field: str) -> str | None:
    """The token the refused request named, if its body was parsed (the refusal's row carries
    its fingerprint). Never parses a body the view did not: that could fail or cost again."""
    if not field:
        return None
    context = getattr(response, "renderer_context", None) or {}
    drf_request = context.get("request")
    data = getattr(drf_request, "_full_data", None)  # DRF's parsed body, when it was parsed
    value = data.get(field) if isinstance(data, Mapping) else None
    if isinstance(value, str) and 0 < len(value) <= _LONGEST_TOKEN:
        return value
    return None
