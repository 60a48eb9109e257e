"""The console's admin site: its index is the dashboard (`authority.console.dashboard`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from authority.console.dashboard import dashboard_build
from authority.principals import console_principal


class ConsoleSite(admin.AdminSite):
    site_header = "Session Authority console"
    site_title = "Session Authority"
    index_title = "Dashboard"
    index_template = "admin/console/dashboard.html"

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        dashboard = dashboard_build(principal=console_principal(request), now=timezone.now())
        response: TemplateResponse = super().index(
            request, {"dashboard": dashboard, **(extra_context or {})}
        )
        return response

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        if getattr(view, "__name__", "") == "history_view":
            view = _permission_before_object(view)
        return super().admin_view(view, cacheable)


def _permission_before_object(history_view: Callable[..., Any]) -> Callable[..., Any]:
    """Django's history page looks the object up before it checks the permission: a staff
    member without any right on a model got 403 for an id that exists and "does not exist" for
    one that does not — which ids exist, for the models only superusers see (users, OAuth2
    applications, schedules). The model-level permission is checked first here, so both
    answer 403; owner-scoped models are unchanged (their queryset already hides the rest)."""
    model_admin = history_view.__self__  # type: ignore[attr-defined]  # a bound ModelAdmin method

    @functools.wraps(history_view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not model_admin.has_view_or_change_permission(request):
            raise PermissionDenied
        return history_view(request, *args, **kwargs)

    return guarded
