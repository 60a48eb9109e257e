"""Error pages: HTML in the admin's look under /admin/, the API's JSON body everywhere else
(`authority.api.errors`). Django calls these for errors no view answered itself (DEBUG off)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from authority.api import errors as api_errors

logger = logging.getLogger(__name__)

TEMPLATE = "admin/console/error.html"


def _in_console(request: HttpRequest) -> bool:
    return request.path.startswith(reverse("admin:index"))


def _page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    context = {**admin.site.each_context(request), "title": title, "message": message}
    return render(request, TEMPLATE, context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _in_console(request):
        return api_errors.json_bad_request(request, exception)
    return _page(request, 400, "Bad request", "The console could not read this request.")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _in_console(request):
        return api_errors.json_forbidden(request, exception)
    return _page(
        request,
        403,
        "Not allowed",
        "Your role in this owner does not allow this. An owner's admin can change your role.",
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _in_console(request):
        return api_errors.json_not_found(request, exception)
    return _page(request, 404, "Not found", "There is nothing here, or nothing you may see.")


def server_error(request: HttpRequest) -> HttpResponse:
    """Renders without the database (its failure may be why we are here): no navigation, no
    user tools; and falls back to plain text if even the template fails."""
    if not _in_console(request):
        return api_errors.json_server_error(request)
    context: dict[str, Any] = {
        "site_header": admin.site.site_header,
        "site_title": admin.site.site_title,
        "site_url": None,
        "has_permission": False,
        "is_nav_sidebar_enabled": False,
        "title": "Server error",
        "message": "Something went wrong on our side; it has been logged. Try again shortly.",
    }
    try:
        return render(request, TEMPLATE, context, status=500)
    except Exception:  # noqa: BLE001 - the last resort must not fail in turn
        logger.exception("the console's error page failed to render")
        return HttpResponse("Server error.", status=500, content_type="text/plain")
