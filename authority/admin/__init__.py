"""Django admin for tenancy: owners, memberships, containers, eACL tables, the audit log."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from authority.admin.display import moment, principal_name, principal_shown
from authority.admin.scoping import (
    OwnerScopedAdmin,
    OwnerScopedInline,
    ReadOnlyScopedAdmin,
    ScopedOwnerFilter,
    ServiceForm,
    actor,
)
from authority.admin.service_accounts import ServiceAccountViews
from authority.admin.tenancy_forms import ContainerForm, OwnerAddForm
from authority.models import (
    ADMIN_ROLES,
    AuditEvent,
    Container,
    EACLFilter,
    EACLRecord,
    EACLTable,
    EACLTarget,
    Membership,
    Owner,
    Role,
)
from authority.services.audit import Fingerprint, audit_chain_check, audit_hash
from authority.services.containers import (
    ContainerChanges,
    container_create,
    container_delete,
    container_update,
)
from authority.services.eacl_tables import (
    eacl_record_to_wire,
    eacl_table_create,
    eacl_table_delete,
    eacl_table_to_wire,
    eacl_table_update,
)
from authority.services.owners import (
    OwnerChanges,
    membership_delete,
    membership_set,
    owner_create,
    owner_update,
)
from tokens.wire import basic_acl as basic_acl_wire
from tokens.wire import eacl as wire
from tokens.wire.eacl_rules import format_rule, parse_rules
from tokens.wire.errors import WireError


@admin.register(Owner)
class OwnerAdmin(ServiceAccountViews, OwnerScopedAdmin):
    write_roles = ADMIN_ROLES
    list_display = ["slug", "name", "neofs_owner_id", "signs_own_tokens", "bearer_flavour"]
    search_fields = ["slug", "name", "neofs_owner_id"]
    readonly_fields = ["neofs_owner_id", "public_key_hex", "created_at"]
    fields = [
        "name",
        "slug",
        "public_key_hex",
        "neofs_owner_id",
        "signs_own_tokens",
        "bearer_flavour",
        "renew_period",
        "max_lifetime",
        "access_token_audiences",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return actor(request).sees_everything  # new tenants are made by the service's operator

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an owner's sessions, keys and audit history keep it

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = OwnerAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields if obj is not None else OwnerAddForm.Meta.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [*self.readonly_fields, "slug", "signs_own_tokens"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """An owner autocomplete in another model's form offers the owners where that form may
        write (a viewer of an owner may not add a container there)."""
        source = self._autocomplete_source(request)
        if source is not None:
            queryset = queryset.visible_to(actor(request), roles=source.write_roles)  # type: ignore[attr-defined]
        return super().get_search_results(request, queryset, search_term)

    def _autocomplete_source(self, request: HttpRequest) -> OwnerScopedAdmin | None:
        match = request.resolver_match
        if match is None or match.url_name != "autocomplete":
            return None
        for model, model_admin in self.admin_site._registry.items():
            if (
                model._meta.app_label == request.GET.get("app_label")
                and model._meta.model_name == request.GET.get("model_name")
                and isinstance(model_admin, OwnerScopedAdmin)
            ):
                return model_admin
        return None

    @admin.display(description="public key")
    def public_key_hex(self, obj: Owner) -> str:
        return bytes(obj.public_key).hex() if obj.public_key else "—"

    def save_model(self, request: HttpRequest, obj: Owner, form: Any, change: bool) -> None:
        if not change:
            data = form.cleaned_data
            created = owner_create(
                actor=actor(request),
                name=data["name"],
                slug=data["slug"],
                public_key=data.get("public_key"),
                bearer_flavour=data["bearer_flavour"],
                renew_period=data.get("renew_period"),
                max_lifetime=data.get("max_lifetime"),
            )
            obj.pk = created.pk
            return
        fields = [name for name in form.changed_data if name in OwnerChanges.__annotations__]
        changes = cast(OwnerChanges, {name: form.cleaned_data[name] for name in fields})
        owner_update(actor=actor(request), owner=obj, changes=changes)


@admin.register(Membership)
class MembershipAdmin(OwnerScopedAdmin):
    write_roles = ADMIN_ROLES
    list_display = ["owner", "user", "application", "role", "created_at"]
    list_filter = [("owner", ScopedOwnerFilter), "role"]
    autocomplete_fields = ["owner"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["owner", "user", "application"] if obj else []  # a change changes the role

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        membership = membership_set(
            actor=actor(request),
            owner=obj.owner,
            role=Role(obj.role),
            user=obj.user,
            application=obj.application,
        )
        obj.pk = membership.pk

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_delete(actor=actor(request), membership=obj)


@admin.register(Container)
class ContainerAdmin(OwnerScopedAdmin):
    form = ContainerForm
    list_display = ["name", "container_id", "owner", "basic_acl_hex", "eacl_table"]
    list_filter = [("owner", ScopedOwnerFilter)]
    list_select_related = ["owner", "eacl_table"]
    search_fields = ["name", "eacl_table__name"]
    ordering = ["owner__slug", "name"]
    autocomplete_fields = ["owner"]
    fields = ["owner", "name", "basic_acl", "eacl_table", "container_id", "created_at"]
    readonly_fields = ["container_id", "created_at"]

    @admin.display(description="basic ACL", ordering="basic_acl")
    def basic_acl_hex(self, obj: Container) -> str:
        return basic_acl_wire.describe(obj.basic_acl) if obj.basic_acl is not None else "—"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*self.readonly_fields, "owner"] if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Container, form: Any, change: bool) -> None:
        if change:
            changes = ContainerChanges(
                name=obj.name, basic_acl=obj.basic_acl, eacl_table=obj.eacl_table
            )
            container_update(actor=actor(request), container=obj, changes=changes)
            return
        created = container_create(
            actor=actor(request),
            owner=obj.owner,
            name=obj.name,
            basic_acl=obj.basic_acl,
            eacl_table=obj.eacl_table,
        )
        obj.pk, obj.cid = created.pk, created.cid

    def delete_model(self, request: HttpRequest, obj: Container) -> None:
        container_delete(actor=actor(request), container=obj)


class EACLRecordInline(OwnerScopedInline):
    model = EACLRecord
    fields = ["position", "operation", "action", "rule"]
    readonly_fields = ["position", "operation", "action", "rule"]
    ordering = ["position", "id"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("filters", "targets")

    @admin.display(description="as a rule")
    def rule(self, obj: EACLRecord) -> str:
        return format_rule(eacl_record_to_wire(obj)) if obj.pk else ""


class EACLTableForm(ServiceForm):
    """An eACL table edited as rule lines (`deny get obj:Classification=secret others`), saved
    by the eACL table services like the API's `rules`."""

    rules = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "cols": 100, "class": "vLargeTextField"}),
        required=False,
        help_text=(
            "One record a line, first match decides, no match = ALLOW: "
            "<code>allow|deny &lt;operation&gt; [req:|obj:key=value …] "
            "user|others|pubkey:&lt;hex&gt;|address:&lt;owner id&gt;</code>. "
            "Lines starting with # are comments."
        ),
    )

    class Meta:
        model = EACLTable
        fields = ["owner", "name", "container"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            records = eacl_table_to_wire(self.instance).records
            self.initial["rules"] = "\n".join(format_rule(record) for record in records)

    def clean_rules(self) -> tuple[wire.Record, ...]:
        try:
            return parse_rules(self.cleaned_data.get("rules", ""))
        except WireError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(EACLTable)
class EACLTableAdmin(OwnerScopedAdmin):
    form = EACLTableForm
    list_display = ["name", "owner", "container", "record_count", "updated_at"]
    list_filter = [("owner", ScopedOwnerFilter)]
    search_fields = ["name"]
    autocomplete_fields = ["owner"]
    inlines = [EACLRecordInline]
    readonly_fields = ["public_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(record_total=Count("records"))

    @admin.display(description="records", ordering="record_total")
    def record_count(self, obj: EACLTable) -> int:
        return int(getattr(obj, "record_total", 0))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*self.readonly_fields, "owner"] if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: EACLTable, form: Any, change: bool) -> None:
        records = form.cleaned_data["rules"]
        if change:
            eacl_table_update(
                actor=actor(request),
                eacl_table=obj,
                name=obj.name,
                container=obj.container,
                table=wire.Table(container_id=None, records=records),
            )
            return
        created = eacl_table_create(
            actor=actor(request),
            owner=obj.owner,
            name=obj.name,
            container=obj.container,
            table=wire.Table(container_id=None, records=records),
        )
        obj.pk, obj.public_id = created.pk, created.public_id

    def delete_model(self, request: HttpRequest, obj: EACLTable) -> None:
        eacl_table_delete(actor=actor(request), eacl_table=obj)


class EACLFilterInline(OwnerScopedInline):
    model = EACLFilter
    fields = readonly_fields = ("position", "header_type", "match_type", "key", "value")


class EACLTargetInline(OwnerScopedInline):
    model = EACLTarget
    fields = readonly_fields = ("position", "role", "keys")


@admin.register(EACLRecord)
class EACLRecordAdmin(ReadOnlyScopedAdmin):
    """A record's filters and targets, for reading: records are edited as their table's rules."""

    list_display = ["__str__", "table"]
    list_filter = [("table__owner", ScopedOwnerFilter)]
    inlines = [EACLFilterInline, EACLTargetInline]
    readonly_fields = ["table", "position", "operation", "action"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False  # reached from its table's page


class AuditHashForm(forms.Form):
    token = forms.CharField(
        strip=True,
        max_length=16384,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="A session, bearer, access or client token you hold. It is not stored.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "token" in data:
            try:
                data["fingerprints"] = audit_hash(token=data["token"])
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
            del data["token"]
        return data


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyScopedAdmin):
    list_display = ["when", "owner", "actor_name", "action", "object", "outcome"]
    list_display_links = ["when"]
    list_filter = [("owner", ScopedOwnerFilter), "action", "outcome"]
    list_select_related = ["owner"]
    search_fields = ["actor", "action", "object_id", "request_id", "token_fingerprint"]
    search_help_text = "Actor label, action, object id, request id or token fingerprint."
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]  # newest first

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(actor_app=principal_name("actor"))

    @admin.display(description="when", ordering="created_at")
    def when(self, obj: AuditEvent) -> str:
        return moment(obj.created_at)

    @admin.display(description="actor", ordering="actor")
    def actor_name(self, obj: AuditEvent) -> str:
        return principal_shown(obj.actor, getattr(obj, "actor_app", None))

    @admin.display(description="object")
    def object(self, obj: AuditEvent) -> str:
        """The object's kind and the start of its id (the whole id on hover)."""
        if not obj.object_id:
            return obj.object_type or "—"
        shown = obj.object_id if len(obj.object_id) <= 20 else f"{obj.object_id[:8]}…"
        return format_html('{} <span title="{}">{}</span>', obj.object_type, obj.object_id, shown)

    actions = ["verify_chains"]

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        if not actor(request).sees_everything:
            actions.pop("verify_chains", None)  # the chains span every owner
        return actions

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.audit_hash_view)
        return [path("hash/", view, name="authority_auditevent_hash"), *super().get_urls()]

    def audit_hash_view(self, request: HttpRequest) -> HttpResponse:
        """A known token's fingerprints, with links to the rows that carry them (the token is
        neither kept nor shown again)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = AuditHashForm(request.POST or None)
        fingerprints: list[Fingerprint] = []
        if request.method == "POST" and form.is_valid():
            fingerprints = form.cleaned_data["fingerprints"]
        changelist = reverse("admin:authority_auditevent_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Find a token in the audit log",
            "form": form,
            "results": [(found, f"{changelist}?q={found.value}") for found in fingerprints],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/authority/auditevent/hash.html", context)

    @admin.action(description="Verify the audit hash chains")
    def verify_chains(self, request: HttpRequest, queryset: Any) -> None:
        if not actor(request).sees_everything:
            self.message_user(request, "Only a superuser verifies the chains.", messages.ERROR)
            return
        problems = audit_chain_check(actor=actor(request))
        if problems:
            for problem in problems[:20]:
                self.message_user(request, str(problem), messages.ERROR)
        else:
            self.message_user(request, "Every audit chain verifies.", messages.SUCCESS)
