"""One error body for the whole API (SPEC §5): `{"error": code, "detail": text}`."""

from __future__ import annotations

import logging
import sys
from typing import Any

import redis
from django import db
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from authority.api.authentication import AUTH_CHALLENGE, AuthorityAPIException
from authority.errors import AuthDenied, AuthMissing, AuthorityError, Throttled, Unavailable
from tokens.wire.errors import WireError

logger = logging.getLogger(__name__)

_CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    415: "unsupported_media_type",
    429: "throttled",
    503: "unavailable",
}


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, **extra}


def _flatten(errors: Any, prefix: str = "") -> dict[str, str]:
    """DRF's nested validation errors as `{"field.path": "message"}`."""
    if isinstance(errors, dict):
        out: dict[str, str] = {}
        for key, value in errors.items():
            name = (
                prefix
                if key == "non_field_errors" and prefix
                else (f"{prefix}.{key}" if prefix else str(key))
            )
            out.update(_flatten(value, name))
        return out
    if isinstance(errors, list):
        if all(not isinstance(e, dict | list) for e in errors):
            return {prefix or "input": " ".join(str(e) for e in errors)}
        out = {}
        for index, value in enumerate(errors):
            out.update(_flatten(value, f"{prefix}[{index}]"))
        return out
    return {prefix or "input": str(errors)}


# A database or Redis that cannot be reached (or gave up on a statement) is an outage of a
# backing service, not a bug: 503 with Retry-After, and the client retries.
_OUTAGES: tuple[type[Exception], ...] = (
    db.OperationalError,
    db.InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


OUTAGE_DETAIL = "A backing service is unavailable; retry shortly."


def outage_response() -> JsonResponse:
    response = JsonResponse(error_body(Unavailable.code, OUTAGE_DETAIL), status=503)
    response["Retry-After"] = str(Unavailable.retry_after)
    return response


def _authentication_error(exc: exceptions.APIException, context: dict[str, Any]) -> AuthorityError:
    """DRF's own 401s in the three-way terms of flow 8: credentials that no authentication class
    accepted (an invalid OAuth2 bearer token, say) are denied; none at all are missing."""
    if isinstance(exc, exceptions.NotAuthenticated):
        request = context.get("request")
        if request is None or not request.META.get("HTTP_AUTHORIZATION"):
            return AuthMissing("Authentication credentials were not provided.")
        return AuthDenied("The credentials were not accepted.")
    return AuthDenied(str(exc.detail))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, AuthorityAPIException):
        exc = exc.error
    elif (
        isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed)
        and exc.status_code == 401  # DRF makes it 403 where no authenticator can challenge
    ):
        exc = _authentication_error(exc, context)
    if isinstance(exc, _OUTAGES):
        logger.warning("backing service unavailable: %s", type(exc).__name__)
        exc = Unavailable(OUTAGE_DETAIL)
    elif isinstance(exc, Unavailable) and exc.detail != OUTAGE_DETAIL:
        # Its detail is for the operator (an HSM module's path, a token label), not the caller.
        logger.warning("backing service unavailable: %s", exc.detail)
        exc = Unavailable(OUTAGE_DETAIL)
    if isinstance(exc, AuthorityError):
        extra = {"fields": {exc.field: exc.detail}} if exc.field else {}
        detail = f"{exc.field}: {exc.detail}" if exc.field else exc.detail
        error = Response(error_body(exc.code, detail, **extra), status=exc.status)
        if isinstance(exc, Unavailable | Throttled):
            error["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, AuthMissing | AuthDenied):
            error["WWW-Authenticate"] = AUTH_CHALLENGE
        return error
    if isinstance(exc, WireError):
        return Response(
            error_body("invalid", str(exc), fields={exc.field: exc.message}),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    handled = drf_exception_handler(exc, context)
    if handled is None:
        return None
    response: Response = handled
    code = _CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        detail = "; ".join(f"{name}: {message}" for name, message in fields.items())
        response.data = error_body("invalid", detail, fields=fields)
    elif isinstance(exc, exceptions.ParseError):
        response.data = error_body("malformed", str(exc.detail))
    else:
        text = str(exc.detail) if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = error_body(code, text)
    return response


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "No such resource."), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    """Django's handler500, for views and middleware outside DRF (the admin, /o/token/, sessions):
    it runs inside the `except` of the failure, so an outage is told from a bug here too."""
    failure = sys.exc_info()[1]
    if isinstance(failure, (*_OUTAGES, Unavailable)):
        logger.warning("backing service unavailable: %s", type(failure).__name__)
        return outage_response()
    return JsonResponse(
        error_body("server_error", "Internal error; it has been logged."), status=500
    )


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("invalid", "Bad request."), status=400)


def json_forbidden(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("forbidden", "Forbidden."), status=403)
