"""Admin login lockout, by django-axes (issue 17): after AXES_FAILURE_LIMIT failed admin logins
of one user name from one client address, that pair is locked out for AXES_COOLOFF_TIME, then
may try again; a success resets its count. Keyed by the pair, so nobody can lock an admin out
from elsewhere by guessing its name, and an office behind one address is not locked out by one
member's typos.

- Only the admin site: the API's password logins have their own throttle (tokens/services/
  client_sessions.py) and call `authenticate()` without a request, which axes's backend refuses;
  the backend below lets those through to it.
- Addresses come from authority.request_context.client_address (NUM_PROXIES), as everywhere.
- A lockout answers 429 with Retry-After, as every other throttle of the authority.
"""

from __future__ import annotations

import math
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse

from authority.request_context import client_address


class AdminLoginLockoutBackend(AxesStandaloneBackend):
    """axes's lockout check, for authentications that come with a request (the admin login);
    the others are the API's, throttled there."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def axes_client_address(request: HttpRequest) -> str:
    return client_address(request.META) or ""


def lockout_response(request: HttpRequest, *args: Any) -> HttpResponse:
    cool_off = get_cool_off(request)
    seconds = max(1, math.ceil(cool_off.total_seconds())) if cool_off else 3600
    response = HttpResponse(
        f"Too many failed logins; try again in {math.ceil(seconds / 60)} minutes.",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(seconds)
    return response
