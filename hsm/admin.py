"""Admin: key records (read-only material; rotate and destroy for owner admins) and the HSM
status page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from authority.admin.actions import (
    ActionOutcome,
    ObjectActionsAdmin,
    confirmation_page,
    irreversible,
    is_confirmed,
)
from authority.admin.display import moment
from authority.admin.scoping import ReadOnlyScopedAdmin, ScopedOwnerFilter, actor
from authority.models import ADMIN_ROLES
from hsm.errors import HSMUnavailable, KeyUnusable
from hsm.keystore import keystore
from hsm.models import KeyPurpose, KeyRecord, KeyState
from hsm.services import key_destroy, key_rotate
from tokens.services.client_sessions import client_session_key_reset

# Keys that the Rotate action leaves alone, and why.
UNROTATED = {
    KeyPurpose.OWNER_SIGNING: "an owner's signing key is its NeoFS identity; it is not rotated.",
    KeyPurpose.DYNAMIC_SESSION: "a session key lives and dies with its session.",
}


@admin.register(KeyRecord)
class KeyRecordAdmin(ObjectActionsAdmin, ReadOnlyScopedAdmin):
    """Keys are made by the services (owner creation, rotation); rotate and destroy are the
    actions."""

    write_roles = ADMIN_ROLES
    list_display = ["label", "purpose", "owner", "state", "storage", "created"]
    list_filter = [("owner", ScopedOwnerFilter), "purpose", "state", "backend"]
    list_select_related = ["owner"]
    search_fields = ["label", "owner__slug"]
    ordering = ["purpose", "owner__slug", "-created_at"]
    actions = ["rotate", "destroy", "reset_client_sessions"]
    object_actions = ("rotate", "destroy", "reset_client_sessions")
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
        if not actor(request).sees_everything:
            actions.pop("reset_client_sessions", None)  # every user's client tokens end
        return actions

    def object_action_applies(self, request: HttpRequest, name: str, obj: KeyRecord) -> bool:
        if not self._allowed(request, obj, self.write_roles):
            return False
        if name == "rotate":
            return obj.state == KeyState.ACTIVE and obj.purpose not in UNROTATED
        if name == "destroy":
            return obj.state != KeyState.DESTROYED
        return obj.purpose == KeyPurpose.CLIENT_SESSION_HMAC

    @admin.action(description="Rotate: a new active key; these retire and keep verifying")
    @irreversible(
        question="Rotate {rows}?",
        consequence=(
            "A new key becomes active for each purpose and owner; the active one retires (it "
            "keeps verifying what it signed until it is destroyed). Owner signing keys and "
            "session keys are not rotated."
        ),
        button="Rotate key",
    )
    def rotate(self, request: HttpRequest, queryset: QuerySet[KeyRecord]) -> Any:
        rows = list(queryset.select_related("owner"))
        if not is_confirmed(request):
            return confirmation_page(self, request, KeyRecordAdmin.rotate, rows)
        outcome = ActionOutcome()
        writable = set(self.writable(request, queryset).values_list("pk", flat=True))
        seen: set[tuple[str, int | None]] = set()
        for key in rows:
            if key.pk not in writable:
                outcome.refused.append(f"{key.label}: only an owner admin rotates its keys.")
            elif key.purpose in UNROTATED:
                outcome.refused.append(f"{key.label}: {UNROTATED[KeyPurpose(key.purpose)]}")
            elif (key.purpose, key.owner_id) not in seen:
                seen.add((key.purpose, key.owner_id))
                retiring = list(
                    KeyRecord.objects.filter(
                        purpose=key.purpose, owner=key.owner, state=KeyState.ACTIVE
                    ).values_list("label", flat=True)
                )
                try:
                    new = key_rotate(
                        purpose=KeyPurpose(key.purpose), owner=key.owner, actor=actor(request)
                    )
                except (HSMUnavailable, KeyUnusable) as exc:
                    outcome.refused.append(f"{key.label}: {exc.detail}")
                    continue
                retired = [label for label in retiring if label != new.label]
                outcome.done.append(
                    f"{key.get_purpose_display()} of {key.owner or 'the authority'}: {new.label} "
                    f"is active (retired: {', '.join(retired) or 'none'})"
                )
        outcome.report(self, request, "rotated")
        return None

    @admin.action(description="Destroy in the HSM (irreversible)")
    @irreversible(
        question="Destroy {rows} in the HSM?",
        consequence=(
            "The key material is erased from the HSM: nothing it signed verifies any more, and "
            "nothing can bring it back. The record stays, destroyed, for audit."
        ),
        button="Destroy key",
    )
    def destroy(self, request: HttpRequest, queryset: QuerySet[KeyRecord]) -> Any:
        rows = list(queryset.select_related("owner"))
        if not is_confirmed(request):
            return confirmation_page(self, request, KeyRecordAdmin.destroy, rows)
        outcome = ActionOutcome()
        writable = set(self.writable(request, queryset).values_list("pk", flat=True))
        for key in rows:
            if key.state == KeyState.DESTROYED:
                outcome.nothing_to_do.append(key.label)
            elif key.pk not in writable:
                outcome.refused.append(f"{key.label}: only an owner admin destroys its keys.")
            else:
                try:
                    key_destroy(key=key, actor=actor(request))
                except (HSMUnavailable, KeyUnusable) as exc:
                    outcome.refused.append(f"{key.label}: {exc.detail}")
                    continue
                outcome.done.append(key.label)
        outcome.report(self, request, "destroyed")
        return None

    @admin.action(description="Reset the client-session key (every user logs in again)")
    @irreversible(
        question="Reset the client-session key?",
        consequence=(
            "A new client-session key is made and every other one destroyed: every client "
            "token of every user (sactl, the SDK) stops working at once; users log in again."
        ),
        button="Reset client-session key",
    )
    def reset_client_sessions(self, request: HttpRequest, queryset: QuerySet[KeyRecord]) -> Any:
        rows = list(queryset.filter(purpose=KeyPurpose.CLIENT_SESSION_HMAC))
        if not is_confirmed(request):
            return confirmation_page(self, request, KeyRecordAdmin.reset_client_sessions, rows)
        if not actor(request).sees_everything:
            self.message_user(request, "Refused: only a superuser resets it.", messages.ERROR)
            return None
        try:
            new = client_session_key_reset(actor=actor(request))
        except (HSMUnavailable, KeyUnusable) as exc:
            self.message_user(request, f"Refused: {exc.detail}", messages.ERROR)
            return None
        self.message_user(
            request,
            f"Client-session key reset: {new.label} is active; every other one is destroyed "
            "and every client token must log in again.",
            messages.SUCCESS,
        )
        return None

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
