"""Per-request facts the audit log records (request id, client address), kept in a contextvar."""

from __future__ import annotations

import contextvars
import ipaddress
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse

from authority.conf import authority_settings


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str = ""
    client_address: str | None = None
    actor: str = ""  # the authenticated principal's label, once the API has one


def request_actor_set(label: str) -> None:
    """Names the request's authenticated principal (the API's permission check does), for the
    audit rows and log lines written outside the view."""
    context = _current.get(None)
    if context is not None and context.actor != label:
        _current.set(RequestContext(context.request_id, context.client_address, label))


_EMPTY = RequestContext()
_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("authority_request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def current_request() -> RequestContext:
    return _current.get(_EMPTY)


def client_address(meta: Mapping[str, Any]) -> str | None:
    """The client's address: REMOTE_ADDR, or, behind NUM_PROXIES trusted reverse proxies, the
    address the outermost of them saw (the NUM_PROXIES-th entry of X-Forwarded-For from the
    right: each proxy appends its peer). Entries left of it are the client's own say and never
    used; with NUM_PROXIES = 0 (the default) X-Forwarded-For is ignored. The one place every
    throttle, login counter and audit row takes the address from."""
    remote = meta.get("REMOTE_ADDR") or None
    proxies = authority_settings.NUM_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded or len(forwarded) > 2048:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # garbage from a misconfigured proxy: the proxy's own address, then
        return remote


class RequestIdMiddleware:
    """Takes a well-formed X-Request-ID or makes one, and echoes it on the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = _current.set(RequestContext(request_id, client_address(request.META)))
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response
