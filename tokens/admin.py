"""Admin for sessions: scoped by owner, with renew and cancel actions over the same services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from authority.admin.scoping import (
    OwnerScopedAdmin,
    ReadOnlyScopedAdmin,
    ScopedOwnerFilter,
    actor,
)
from authority.errors import AuthorityError
from tokens.models import BearerGrant, RenewalSchedule, Session
from tokens.services.bearer_grants import bearer_grant_revoke
from tokens.services.renewals import renewal_schedule_update, renewal_schedules_run_now
from tokens.services.sessions import session_cancel, session_renew


@admin.register(Session)
class SessionAdmin(ReadOnlyScopedAdmin):
    """Sessions are issued through the API (a delegation secret is shown once); renew and cancel
    are the actions; cancelled sessions stay, for audit."""

    list_display = ["id", "owner", "kind", "context", "verbs", "subject", "state", "expires_at"]
    list_filter = [("owner", ScopedOwnerFilter), "kind", "context"]
    search_fields = ["id", "subject"]
    date_hierarchy = "created_at"
    actions = ["renew", "cancel"]
    readonly_fields = [
        "id", "owner", "subject", "renewer_label", "kind", "context", "verbs", "container_id",
        "objects_list", "state", "created_at", "expires_at", "max_expires_at", "cancelled_at",
    ]  # fmt: skip
    exclude = [
        "renewer_user", "renewer_application", "container_cid", "session_key", "dynamic_key",
        "token", "secret_digest", "secret_key", "expired_at",
    ]  # fmt: skip

    def _each(self, request: HttpRequest, queryset: Any, service: Any, verb: str) -> None:
        done = 0
        for session in self.writable(request, queryset):
            try:
                service(actor=actor(request), session=session)
                done += 1
            except AuthorityError as exc:
                self.message_user(request, f"{session.id}: {exc.detail}", messages.ERROR)
        if done:
            self.message_user(request, f"{verb} {done} session(s).", messages.SUCCESS)

    @admin.action(description="Renew (only as the session's renewer)")
    def renew(self, request: HttpRequest, queryset: Any) -> None:
        self._each(request, queryset, session_renew, "Renewed")

    @admin.action(description="Cancel (the renewer or an owner admin)")
    def cancel(self, request: HttpRequest, queryset: Any) -> None:
        self._each(request, queryset, session_cancel, "Cancelled")


SCHEDULE_FIELDS = (
    "session", "period", "stop_at", "active", "next_run_at", "last_run_at", "last_outcome",
    "failures",
)  # fmt: skip


@admin.register(RenewalSchedule)
class RenewalScheduleAdmin(OwnerScopedAdmin):
    owner_path = "session__owner"
    list_display = SCHEDULE_FIELDS
    list_filter = [("session__owner", ScopedOwnerFilter), "active"]
    fields = SCHEDULE_FIELDS
    readonly_fields = tuple(f for f in SCHEDULE_FIELDS if f not in ("stop_at", "active"))
    actions = ["run_now"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # made through the API by the renewer

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # stop it instead (active off): its outcome stays visible

    def save_model(
        self, request: HttpRequest, obj: RenewalSchedule, form: Any, change: bool
    ) -> None:
        renewal_schedule_update(
            actor=actor(request), schedule=obj, stop_at=obj.stop_at, active=obj.active
        )

    @admin.action(description="Run now")
    def run_now(self, request: HttpRequest, queryset: Any) -> None:
        schedules = list(self.writable(request, queryset).select_related("session__owner"))
        try:
            ran = renewal_schedules_run_now(actor=actor(request), schedules=schedules)
        except AuthorityError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return
        self.message_user(request, f"Ran {ran} schedule(s); see their outcome.", messages.SUCCESS)


@admin.register(BearerGrant)
class BearerGrantAdmin(ReadOnlyScopedAdmin):
    """Bearer grants are issued through the API (the table and receiver are checked there);
    revoke is the action."""

    list_display = [
        "id",
        "owner",
        "container_id",
        "receiver",
        "flavour",
        "exp",
        "revoked_at",
        "download",
    ]
    list_filter = [("owner", ScopedOwnerFilter), "flavour"]
    readonly_fields = [
        "id",
        "owner",
        "container_id",
        "receiver",
        "flavour",
        "exp",
        "nbf",
        "iat",
        "issued_by",
        "created_at",
        "revoked_at",
    ]
    exclude = ["container_cid", "token", "token_digest"]
    actions = ["revoke"]

    @admin.display(description="token")
    def download(self, obj: BearerGrant) -> str:
        url = reverse("admin:tokens_bearergrant_download", args=[obj.pk])
        return format_html('<a href="{}">download</a>', url)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.download_view)
        return [
            path("<uuid:grant_id>/download/", view, name="tokens_bearergrant_download"),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, grant_id: Any) -> Any:
        grant = self.get_queryset(request).filter(pk=grant_id).first()
        if grant is None:
            raise Http404
        response = HttpResponse(bytes(grant.token), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="bearer-{grant.pk}.bin"'
        return response

    @admin.action(description="Revoke")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for grant in self.writable(request, queryset):
            bearer_grant_revoke(actor=actor(request), grant=grant)
        self.message_user(request, "Revoked.", messages.SUCCESS)
