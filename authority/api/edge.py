"""The edge: what every request must satisfy before any view, form or parser reads it, and the
Content-Security-Policy header every response carries.

- A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is refused with 413 from its Content-Length,
  before a byte of it is read (Django would read up to the limit, then answer 400).
- A NUL byte in the path, the query string or a form body is refused with 400: PostgreSQL
  cannot store or compare one, so it would fail as a 500 in whichever query met it first (a
  list filter, an admin search, an OAuth2 client id). JSON bodies are checked by the API's
  parser (authority.api.parsers), which sees `\\u0000` only once decoded.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from authority.api.errors import error_body

_FORM = "application/x-www-form-urlencoded"


class InputEdgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = self.refusal(request)
        return refused if refused is not None else self.get_response(request)

    @staticmethod
    def refusal(request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                error_body("invalid", "Content-Length is not a number."), status=400
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            detail = f"The body is larger than {limit} bytes."
            return JsonResponse(error_body("too_large", detail), status=413)
        if "\x00" in request.path_info or b"\x00" in unquote_to_bytes(
            request.META.get("QUERY_STRING", "")
        ):
            return JsonResponse(error_body("invalid", "NUL bytes are not accepted."), status=400)
        if length and request.content_type == _FORM and request.method != "GET":
            body = request.body
            if b"\x00" in body or b"%00" in body:
                return JsonResponse(
                    error_body("invalid", "NUL bytes are not accepted."), status=400
                )
        return None


class ContentSecurityPolicyMiddleware:
    """settings.CONTENT_SECURITY_POLICY on every response that sets none of its own (Django 5.2
    has no CSP support of its own)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
