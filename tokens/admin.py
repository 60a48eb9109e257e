"""Admin for sessions: scoped by owner, with renew and cancel actions over the same services."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from authority.admin.actions import (
    ActionOutcome,
    ObjectActionsAdmin,
    confirmation_page,
    irreversible,
    is_confirmed,
)
from authority.admin.scoping import (
    OwnerScopedAdmin,
    ReadOnlyScopedAdmin,
    ScopedOwnerFilter,
    actor,
    writable_owner_ids,
)
from authority.epoch import epoch_start
from authority.errors import AuthorityError
from authority.models import ADMIN_ROLES, WRITER_ROLES
from tokens.models import BearerGrant, RenewalSchedule, Session, SessionState
from tokens.services.bearer_grants import bearer_grant_revoke
from tokens.services.renewals import renewal_schedule_update, renewal_schedules_run_now
from tokens.services.sessions import is_renewer, session_cancel, session_renew
from tokens.wire.bearer import BearerToken, Flavour


@admin.register(Session)
class SessionAdmin(ObjectActionsAdmin, ReadOnlyScopedAdmin):
    """Sessions are issued through the API (a delegation secret is shown once); renew and cancel
    are the actions; cancelled sessions stay, for audit."""

    list_display = ["id", "owner", "kind", "context", "verbs", "subject", "state", "expires_at"]
    list_filter = [("owner", ScopedOwnerFilter), "kind", "context"]
    search_fields = ["id", "subject"]
    date_hierarchy = "created_at"
    actions = ["renew", "cancel"]
    object_actions = ("renew", "cancel")
    readonly_fields = [
        "id", "owner", "subject", "renewer_label", "kind", "context", "verbs", "container_id",
        "objects_list", "state", "created_at", "expires_at", "max_expires_at", "cancelled_at",
    ]  # fmt: skip
    exclude = [
        "renewer_user", "renewer_application", "container_cid", "session_key", "dynamic_key",
        "token", "secret_digest", "secret_key", "expired_at",
    ]  # fmt: skip

    def object_action_applies(self, request: HttpRequest, name: str, obj: Session) -> bool:
        principal = actor(request)
        if name == "renew":
            return is_renewer(principal, obj) and obj.state == SessionState.ACTIVE
        admin_of = writable_owner_ids(request, ADMIN_ROLES)
        may_cancel = is_renewer(principal, obj) or admin_of is None or obj.owner_id in admin_of
        return name == "cancel" and obj.cancelled_at is None and may_cancel

    @admin.action(description="Renew (only as the session's renewer)")
    def renew(self, request: HttpRequest, queryset: Any) -> None:
        outcome = ActionOutcome()
        for session in queryset:
            try:
                renewed = session_renew(actor=actor(request), session=session)
            except AuthorityError as exc:
                outcome.refused.append(f"{session.id}: {exc.detail}")
                continue
            outcome.done.append(f"{session.id} until {renewed.expires_at:%Y-%m-%d %H:%M:%S} UTC")
        outcome.report(self, request, "renewed")

    @admin.action(description="Cancel (the renewer or an owner admin)")
    @irreversible(
        question="Cancel {rows}?",
        consequence=(
            "A cancelled session cannot be renewed or used again: every trade for it stops at "
            "once. The record stays, cancelled, for audit."
        ),
        button="Cancel session",
    )
    def cancel(self, request: HttpRequest, queryset: Any) -> Any:
        rows = list(queryset)
        if not is_confirmed(request):
            return confirmation_page(self, request, SessionAdmin.cancel, rows)
        outcome = ActionOutcome()
        for session in rows:
            if session.cancelled_at is not None:
                outcome.nothing_to_do.append(str(session.id))
                continue
            try:
                session_cancel(actor=actor(request), session=session)
            except AuthorityError as exc:
                outcome.refused.append(f"{session.id}: {exc.detail}")
                continue
            outcome.done.append(str(session.id))
        outcome.report(self, request, "cancelled")
        return None


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
        return False  # made through the API by the renewer (or an owner admin)

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
class BearerGrantAdmin(ObjectActionsAdmin, ReadOnlyScopedAdmin):
    """Bearer grants are issued through the API (the table and receiver are checked there);
    revoke is the action, download (binary or JSON) the grant's page offers."""

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
        "valid_from",
        "valid_until",
        "issued_at_epoch",
        "issued_by",
        "created_at",
        "revoked_at",
        "downloads",
    ]
    exclude = ["container_cid", "token", "token_digest", "exp", "nbf", "iat"]  # shown as times
    actions = ["revoke"]
    object_actions = ("revoke",)

    @admin.display(description="token")
    def download(self, obj: BearerGrant) -> str:
        url = reverse("admin:tokens_bearergrant_download", args=[obj.pk])
        return format_html('<a href="{}">download</a>', url)

    @staticmethod
    def _epoch(epoch: int) -> str:
        return f"epoch {epoch} (starts {epoch_start(epoch):%Y-%m-%d %H:%M:%S} UTC)"

    @admin.display(description="valid until (exp)")
    def valid_until(self, obj: BearerGrant) -> str:
        return self._epoch(obj.exp)

    @admin.display(description="valid from (nbf)")
    def valid_from(self, obj: BearerGrant) -> str:
        return self._epoch(obj.nbf)

    @admin.display(description="issued (iat)")
    def issued_at_epoch(self, obj: BearerGrant) -> str:
        return self._epoch(obj.iat)

    @admin.display(description="download")
    def downloads(self, obj: BearerGrant) -> str:
        return format_html(
            '<a href="{}" id="download-binary">binary (neofs-cli --bearer)</a> · '
            '<a href="{}" id="download-json">JSON</a>',
            reverse("admin:tokens_bearergrant_download", args=[obj.pk]),
            reverse("admin:tokens_bearergrant_download_json", args=[obj.pk]),
        )

    def get_urls(self) -> list[Any]:
        binary = self.admin_site.admin_view(self.download_view)
        as_json = self.admin_site.admin_view(self.download_json_view)
        return [
            path("<uuid:grant_id>/download/", binary, name="tokens_bearergrant_download"),
            path(
                "<uuid:grant_id>/download.json",
                as_json,
                name="tokens_bearergrant_download_json",
            ),
            *super().get_urls(),
        ]

    def _grant(self, request: HttpRequest, grant_id: Any) -> BearerGrant:
        grant = self.get_queryset(request).filter(pk=grant_id).first()
        if grant is None:
            raise Http404
        return grant

    def download_view(self, request: HttpRequest, grant_id: Any) -> HttpResponse:
        grant = self._grant(request, grant_id)
        response = HttpResponse(bytes(grant.token), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="bearer-{grant.pk}.bin"'
        return response

    def download_json_view(self, request: HttpRequest, grant_id: Any) -> HttpResponse:
        grant = self._grant(request, grant_id)
        token = BearerToken.decode(bytes(grant.token), flavour=Flavour(grant.flavour))
        response = HttpResponse(
            json.dumps(token.to_json(), indent=2) + "\n", content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="bearer-{grant.pk}.json"'
        return response

    def object_action_applies(self, request: HttpRequest, name: str, obj: BearerGrant) -> bool:
        writable = writable_owner_ids(request, WRITER_ROLES)
        return obj.revoked_at is None and (writable is None or obj.owner_id in writable)

    @admin.action(description="Revoke")
    @irreversible(
        question="Revoke {rows}?",
        consequence=(
            "A revoked grant is refused by verify from now on; it cannot be restored (issue a "
            "new one instead)."
        ),
        button="Revoke bearer grant",
    )
    def revoke(self, request: HttpRequest, queryset: Any) -> Any:
        rows = list(queryset)
        if not is_confirmed(request):
            return confirmation_page(self, request, BearerGrantAdmin.revoke, rows)
        outcome = ActionOutcome()
        for grant in rows:
            if grant.revoked_at is not None:
                outcome.nothing_to_do.append(str(grant.id))
                continue
            try:
                bearer_grant_revoke(actor=actor(request), grant=grant)
            except AuthorityError as exc:
                outcome.refused.append(f"{grant.id}: {exc.detail}")
                continue
            outcome.done.append(str(grant.id))
        outcome.report(self, request, "revoked")
        return None
