"""Admin: key records (read-only material; rotate and destroy for owner admins) and the HSM
status page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from authority.admin.display import moment
from authority.admin.scoping import ReadOnlyScopedAdmin, ScopedOwnerFilter, actor
from authority.models import ADMIN_ROLES
from hsm.errors import HSMUnavailable, KeyUnusable
from hsm.keystore import keystore
from hsm.models import KeyPurpose, KeyRecord, KeyState
from hsm.services import key_destroy, key_rotate


@admin.register(KeyRecord)
class KeyRecordAdmin(ReadOnlyScopedAdmin):
    """Keys are made by the services (owner creation, rotation); rotate and destroy are the
    actions."""

    write_roles = ADMIN_ROLES
    list_display = ["label", "purpose", "owner", "state", "storage", "created"]
    list_filter = [("owner", ScopedOwnerFilter), "purpose", "state", "backend"]
    list_select_related = ["owner"]
    search_fields = ["label", "owner__slug"]
    ordering = ["purpose", "owner__slug", "-created_at"]
    actions = ["rotate", "destroy"]
    readonly_fields = [
        "label", "purpose", "owner", "algorithm", "key_id_hex", "public_key_hex", "backend",
        "state", "created_at", "retired_at", "destroyed_at",
    ]  # fmt: skip
    exclude = ["key_id", "public_key", "material"]

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: KeyRecord) -> str:
        return moment(obj.created_at)

    @admin.display(description="storage")
    def storage(self, obj: KeyRecord) -> str:
        return "HSM" if obj.backend == "pkcs11" else "software (not hardware-backed)"

    @admin.display(description="public key")
    def public_key_hex(self, obj: KeyRecord) -> str:
        return bytes(obj.public_key).hex() if obj.public_key else "—"

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        if not self._allowed(request, None, self.write_roles):
            actions.pop("rotate", None)
            actions.pop("destroy", None)
        return actions

    @admin.action(description="Rotate: a new active key; these retire and keep verifying")
    def rotate(self, request: HttpRequest, queryset: QuerySet[KeyRecord]) -> None:
        seen: set[tuple[str, int | None]] = set()
        rotatable = self.writable(request, queryset).exclude(
            purpose__in=[KeyPurpose.DYNAMIC_SESSION, KeyPurpose.OWNER_SIGNING]
        )
        for key in rotatable:
            if (key.purpose, key.owner_id) in seen:
                continue
            seen.add((key.purpose, key.owner_id))
            try:
                new = key_rotate(
                    purpose=KeyPurpose(key.purpose), owner=key.owner, actor=actor(request)
                )
            except (HSMUnavailable, KeyUnusable) as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                return
            self.message_user(request, f"Rotated: {new.label} is active.", messages.SUCCESS)

    @admin.action(description="Destroy in the HSM (irreversible)")
    def destroy(self, request: HttpRequest, queryset: QuerySet[KeyRecord]) -> None:
        count = 0
        for key in self.writable(request, queryset).exclude(state=KeyState.DESTROYED):
            try:
                key_destroy(key=key, actor=actor(request))
            except (HSMUnavailable, KeyUnusable) as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                return
            count += 1
        self.message_user(request, f"Destroyed {count} key(s).", messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        status_view = self.admin_site.admin_view(self.status_view)
        return [path("status/", status_view, name="hsm_status"), *super().get_urls()]

    def status_view(self, request: HttpRequest) -> HttpResponse:
        try:
            status: dict[str, object] = keystore().status()
            error = ""
        except HSMUnavailable as exc:
            status, error = {}, exc.detail
        last_error = getattr(keystore(), "last_error", "") if not error else error
        context = {
            **self.admin_site.each_context(request),
            "title": "HSM status",
            "status": status,
            "error": error,
            "last_error": last_error,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/hsm/status.html", context)
