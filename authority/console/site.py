"""The console's admin site: its index is the dashboard (`authority.console.dashboard`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
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
