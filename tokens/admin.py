"""Admin for sessions: scoped by owner, with renew and cancel actions over the same services."""

from __future__ import annotations

import json
from typing import Any

import base58
from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from authority.admin.actions import (
    ActionOutcome,
    ObjectActionsAdmin,
    confirmation_page,
    irreversible,
    is_confirmed,
)
from authority.admin.display import (
    badge,
    moment,
    principal_name,
    principal_shown,
    short_id,
)
from authority.admin.scoping import (
    OwnerScopedAdmin,
    ReadOnlyScopedAdmin,
    ScopedOwnerFilter,
    actor,
    writable_owner_ids,
)
from authority.epoch import current_epoch, epoch_start
from authority.errors import AuthorityError
from authority.models import ADMIN_ROLES, WRITER_ROLES, Container, Owner
from tokens.models import BearerGrant, RenewalSchedule, Session, SessionState
from tokens.selectors import (
    bearer_grant_live,
    renewal_schedule_failing,
    session_cancelled_today_q,
    session_expiring_soon,
    session_filter_renewer,
)
from tokens.services.bearer_grants import bearer_grant_revoke
from tokens.services.renewals import renewal_schedule_update, renewal_schedules_run_now
from tokens.services.sessions import is_renewer, session_cancel, session_renew
from tokens.wire.bearer import BearerToken, Flavour

CANCELLED_TODAY = "cancelled_today"


class SessionStateFilter(admin.SimpleListFilter):
    """State as `SessionQuerySet` defines it (active, expired, cancelled)."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [*SessionState.choices, (CANCELLED_TODAY, "Cancelled today")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        now, value = timezone.now(), self.value()
        if value == CANCELLED_TODAY:
            return queryset.filter(session_cancelled_today_q(now))
        match value:
            case SessionState.ACTIVE:
                return queryset.active(now)
            case SessionState.EXPIRED:
                return queryset.expired(now)
            case SessionState.CANCELLED:
                return queryset.cancelled()
        return queryset


class ExpiringSoonFilter(admin.SimpleListFilter):
    title = "expiring"
    parameter_name = "expiring"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("24h", "within 24 hours (unless renewed)")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "24h":
            return session_expiring_soon(queryset, timezone.now())
        return queryset


# A filter offers at most this many choices (the most recent); the rest are reached by search.
FILTER_CHOICES = 50


class RenewerFilter(admin.SimpleListFilter):
    """The renewers of the operator's sessions, as `user:<name>` / `app:<client id>`."""

    title = "renewer"
    parameter_name = "renewer"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        rows = (
            model_admin.get_queryset(request)
            .order_by()
            .values_list(
                "renewer_user__username",
                "renewer_application__client_id",
                "renewer_application__name",
            )
            .distinct()[:FILTER_CHOICES]
        )
        choices = []
        for username, client_id, name in rows:
            if client_id:
                choices.append((f"app:{client_id}", f"{name} (service account)"))
            elif username:
                choices.append((f"user:{username}", username))
        return sorted(set(choices), key=lambda choice: choice[1].lower())

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        if not value:
            return queryset
        try:
            return session_filter_renewer(queryset, value)
        except AuthorityError:
            return queryset.none()


class ContainerFilter(admin.SimpleListFilter):
    """The operator's containers, by name; the value is the container's base58 id."""

    title = "container"
    parameter_name = "container"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        containers = (
            Container.objects.visible_to(actor(request))
            .order_by("name")
            .values_list("cid", "name")[:FILTER_CHOICES]
        )
        return [(base58.b58encode(bytes(cid)).decode(), name) for cid, name in containers]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        if not value:
            return queryset
        try:
            cid = base58.b58decode(value[:64])
        except ValueError:
            return queryset.none()
        return queryset.filter(container_cid=cid)


def container_name() -> Subquery:
    """An annotation: the name of the container a row's `container_cid` names."""
    return Subquery(Container.objects.filter(cid=OuterRef("container_cid")).values("name")[:1])


@admin.register(Session)
class SessionAdmin(ObjectActionsAdmin, ReadOnlyScopedAdmin):
    """Sessions are issued through the API (a delegation secret is shown once); renew and cancel
    are the actions; cancelled sessions stay, for audit."""

    list_display = [
        "session", "owner", "kind_name", "scope", "subject_name", "renewer", "state_badge",
        "expires",
    ]  # fmt: skip
    list_display_links = ["session"]
    list_filter = [
        SessionStateFilter, ExpiringSoonFilter, ("owner", ScopedOwnerFilter), "kind",
        RenewerFilter, ContainerFilter,
    ]  # fmt: skip
    search_fields = ["=id", "subject", "renewer_user__username", "renewer_application__name"]
    search_help_text = "Session id (whole), subject, or renewer's user or service-account name."
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .select_related("owner", "renewer_user", "renewer_application")
            .annotate(subject_app=principal_name("subject"), container_name=container_name())
        )

    @admin.display(description="session", ordering="id")
    def session(self, obj: Session) -> str:
        return short_id(obj.id)

    @admin.display(description="kind", ordering="kind")
    def kind_name(self, obj: Session) -> str:
        return obj.kind  # the word; the choice's long label is on the detail page

    @admin.display(description="scope")
    def scope(self, obj: Session) -> SafeString:
        verbs = ", ".join(str(verb).lower() for verb in obj.verbs or [])
        where = getattr(obj, "container_name", None) or (
            "any container" if not obj.container_cid else obj.container_id
        )
        return format_html("{}: {}<br><small>{}</small>", obj.context, verbs or "—", where)

    @admin.display(description="subject", ordering="subject")
    def subject_name(self, obj: Session) -> str:
        return principal_shown(obj.subject, getattr(obj, "subject_app", None))

    @admin.display(description="renewer")
    def renewer(self, obj: Session) -> str:
        if obj.renewer_application is not None:
            return f"{obj.renewer_application.name} (service account)"
        if obj.renewer_user is not None:
            return obj.renewer_user.get_username()
        return "—"

    @admin.display(description="state")
    def state_badge(self, obj: Session) -> SafeString:
        state = obj.state
        return badge(state, state.label)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, obj: Session) -> SafeString | str:
        if obj.cancelled_at is not None:
            return format_html("cancelled<br>{}", moment(obj.cancelled_at))
        return moment(obj.expires_at)

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
        ActionOutcome().each(
            rows,
            already=lambda session: session.cancelled_at is not None,
            run=lambda session: session_cancel(actor=actor(request), session=session),
            refusals=(AuthorityError,),
            name=lambda session: str(session.id),
        ).report(self, request, "cancelled")
        return None


class FailingScheduleFilter(admin.SimpleListFilter):
    title = "last run"
    parameter_name = "failing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("yes", "failing (still running)")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return renewal_schedule_failing(queryset) if self.value() == "yes" else queryset


SCHEDULE_FIELDS = (
    "session", "period", "stop_at", "active", "next_run_at", "last_run_at", "last_outcome",
    "failures",
)  # fmt: skip


@admin.register(RenewalSchedule)
class RenewalScheduleAdmin(OwnerScopedAdmin):
    owner_path = "session__owner"
    list_display = SCHEDULE_FIELDS
    list_filter = [FailingScheduleFilter, ("session__owner", ScopedOwnerFilter), "active"]
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


class BearerGrantStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("live", "live"), ("expired", "expired"), ("revoked", "revoked")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        match self.value():
            case "live":
                return bearer_grant_live(queryset, current_epoch())
            case "expired":
                return queryset.filter(revoked_at__isnull=True).exclude(
                    pk__in=bearer_grant_live(queryset, current_epoch()).values("pk")
                )
            case "revoked":
                return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(BearerGrant)
class BearerGrantAdmin(ObjectActionsAdmin, ReadOnlyScopedAdmin):
    """Bearer grants are issued through the API (the table and receiver are checked there);
    revoke is the action, download (binary or JSON) the grant's page offers."""

    list_display = [
        "grant", "owner", "container", "receiver_name", "flavour", "expires", "state_badge",
        "download",
    ]  # fmt: skip
    list_display_links = ["grant"]
    list_filter = [BearerGrantStateFilter, ("owner", ScopedOwnerFilter), "flavour"]
    search_fields = ["=id", "receiver", "issued_by"]
    search_help_text = "Grant id (whole), receiver's owner id, or who issued it."
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        receivers = Owner.objects.filter(neofs_owner_id=OuterRef("receiver")).values("name")
        return (
            super()
            .get_queryset(request)
            .select_related("owner")
            .annotate(container_name=container_name(), receiver_owner=Subquery(receivers[:1]))
        )

    @admin.display(description="grant", ordering="id")
    def grant(self, obj: BearerGrant) -> str:
        return short_id(obj.id)

    @admin.display(description="container")
    def container(self, obj: BearerGrant) -> str:
        return getattr(obj, "container_name", None) or obj.container_id

    @admin.display(description="receiver", ordering="receiver")
    def receiver_name(self, obj: BearerGrant) -> SafeString | str:
        if not obj.receiver:
            return "anyone"
        name = getattr(obj, "receiver_owner", None)
        if name:
            return format_html('{} <small title="{}">(owner)</small>', name, obj.receiver)
        return format_html('<span title="{}">{}…</span>', obj.receiver, obj.receiver[:10])

    @admin.display(description="expires", ordering="exp")
    def expires(self, obj: BearerGrant) -> SafeString:
        # Valid through its `exp` epoch: it ends when epoch exp + 1 begins.
        return format_html("{} <small>epoch {}</small>", moment(epoch_start(obj.exp + 1)), obj.exp)

    @admin.display(description="state")
    def state_badge(self, obj: BearerGrant) -> SafeString:
        if obj.revoked_at is not None:
            return badge("cancelled", "Revoked")
        if obj.exp < current_epoch():
            return badge("expired", "Expired")
        return badge("active", "Live")

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
        ActionOutcome().each(
            rows,
            already=lambda grant: grant.revoked_at is not None,
            run=lambda grant: bearer_grant_revoke(actor=actor(request), grant=grant),
            refusals=(AuthorityError,),
            name=lambda grant: str(grant.id),
        ).report(self, request, "revoked")
        return None
