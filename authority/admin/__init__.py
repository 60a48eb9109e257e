"""Django admin for tenancy: owners, memberships, containers, eACL tables, the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest
from django.utils.html import format_html

from authority.admin.scoping import (
    OwnerScopedAdmin,
    OwnerScopedInline,
    ScopedOwnerFilter,
    actor,
    owner_ids,
)
from authority.models import (
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
from authority.services.audit import audit_chain_verify, audit_record
from authority.services.containers import (
    ContainerChanges,
    container_create,
    container_delete,
    container_update,
)
from authority.services.eacl_tables import (
    eacl_record_to_wire,
    eacl_table_delete,
    eacl_table_to_wire,
)
from authority.services.owners import membership_set, owner_create
from tokens.wire.eacl_rules import format_rule

ADMIN_ONLY = frozenset({Role.ADMIN})


@admin.register(Owner)
class OwnerAdmin(OwnerScopedAdmin):
    owner_path = "pk"
    write_roles = ADMIN_ONLY
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
        "created_at",
    ]

    def owner_of(self, obj: Any) -> Owner:
        return obj

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return bool(
            request.user.is_superuser
        )  # new tenants are made by the operator of the service

    @admin.display(description="public key")
    def public_key_hex(self, obj: Owner) -> str:
        return bytes(obj.public_key).hex() if obj.public_key else "—"

    def save_model(self, request: HttpRequest, obj: Owner, form: Any, change: bool) -> None:
        if not change:
            created = owner_create(actor=actor(request), name=obj.name, slug=obj.slug)
            obj.pk = created.pk
            return
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=actor(request),
                owner=obj,
                action="owner.update",
                object_type="owner",
                object_id=obj.slug,
                detail={"fields": form.changed_data},
            )


@admin.register(Membership)
class MembershipAdmin(OwnerScopedAdmin):
    write_roles = ADMIN_ONLY
    list_display = ["owner", "user", "application", "role", "created_at"]
    list_filter = [("owner", ScopedOwnerFilter), "role"]
    autocomplete_fields = ["owner"]
    raw_id_fields = ["user", "application"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        ids = owner_ids(request, self.write_roles)
        if ids is not None and obj.owner_id not in ids:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        membership_set(
            actor=actor(request),
            owner=obj.owner,
            role=Role(obj.role),
            user=obj.user,
            application=obj.application,
        )


@admin.register(Container)
class ContainerAdmin(OwnerScopedAdmin):
    list_display = ["name", "container_id", "owner", "basic_acl_hex", "eacl_table"]
    list_filter = [("owner", ScopedOwnerFilter)]
    search_fields = ["name"]
    autocomplete_fields = ["owner"]
    fields = ["owner", "name", "basic_acl", "eacl_table", "container_id", "created_at"]
    readonly_fields = ["container_id", "created_at"]

    @admin.display(description="basic ACL")
    def basic_acl_hex(self, obj: Container) -> str:
        return f"0x{obj.basic_acl:08X}" if obj.basic_acl is not None else "—"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*self.readonly_fields, "owner"] if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Container, form: Any, change: bool) -> None:
        if change:
            changes = ContainerChanges(
                name=obj.name, basic_acl=obj.basic_acl, eacl_table=obj.eacl_table
            )
            container_update(actor=actor(request), container=obj, changes=changes)
        else:
            created = container_create(
                actor=actor(request), owner=obj.owner, name=obj.name, basic_acl=obj.basic_acl
            )
            obj.pk, obj.cid = created.pk, created.cid

    def delete_model(self, request: HttpRequest, obj: Container) -> None:
        container_delete(actor=actor(request), container=obj)


class EACLRecordInline(OwnerScopedInline):
    model = EACLRecord
    fields = ["position", "operation", "action", "rule"]
    readonly_fields = ["rule"]
    ordering = ["position", "id"]
    show_change_link = True

    @admin.display(description="as a rule (filters and targets: open the record)")
    def rule(self, obj: EACLRecord) -> str:
        return format_rule(eacl_record_to_wire(obj)) if obj.pk else ""


@admin.register(EACLTable)
class EACLTableAdmin(OwnerScopedAdmin):
    list_display = ["name", "owner", "container", "record_count", "updated_at"]
    list_filter = [("owner", ScopedOwnerFilter)]
    search_fields = ["name"]
    autocomplete_fields = ["owner"]
    inlines = [EACLRecordInline]
    readonly_fields = ["public_id", "rules"]

    @admin.display(description="records")
    def record_count(self, obj: EACLTable) -> int:
        return obj.records.count()

    @admin.display(description="rules")
    def rules(self, obj: EACLTable) -> str:
        if not obj.pk:
            return ""
        lines = [format_rule(r) for r in eacl_table_to_wire(obj).records]
        return format_html("<pre>{}</pre>", "\n".join(lines) or "(no records: everything ALLOW)")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        audit_record(
            actor=actor(request),
            owner=form.instance.owner,
            action="eacl_table.update" if change else "eacl_table.create",
            object_type="eacl_table",
            object_id=str(form.instance.public_id),
        )

    def delete_model(self, request: HttpRequest, obj: EACLTable) -> None:
        eacl_table_delete(actor=actor(request), eacl_table=obj)


class EACLFilterInline(OwnerScopedInline):
    model = EACLFilter
    fields = ["position", "header_type", "match_type", "key", "value"]


class EACLTargetInline(OwnerScopedInline):
    model = EACLTarget
    fields = ["position", "role", "keys"]


@admin.register(EACLRecord)
class EACLRecordAdmin(OwnerScopedAdmin):
    owner_path = "table__owner"
    list_display = ["__str__", "table"]
    list_filter = [("table__owner", ScopedOwnerFilter)]
    inlines = [EACLFilterInline, EACLTargetInline]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False  # reached from its table's page

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        table = form.instance.table
        audit_record(
            actor=actor(request),
            owner=table.owner,
            action="eacl_table.update",
            object_type="eacl_table",
            object_id=str(table.public_id),
            detail={"record": form.instance.position},
        )


@admin.register(AuditEvent)
class AuditEventAdmin(OwnerScopedAdmin):
    list_display = ["created_at", "owner", "actor", "action", "object_type", "object_id", "outcome"]
    list_filter = [("owner", ScopedOwnerFilter), "action", "outcome"]
    search_fields = ["actor", "object_id", "request_id", "token_fingerprint"]
    date_hierarchy = "created_at"
    actions = ["verify_chains"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Verify the audit hash chains")
    def verify_chains(self, request: HttpRequest, queryset: Any) -> None:
        if not request.user.is_superuser:
            self.message_user(request, "Only a superuser verifies the chains.", messages.ERROR)
            return
        problems = audit_chain_verify()
        if problems:
            for problem in problems[:20]:
                self.message_user(request, str(problem), messages.ERROR)
        else:
            self.message_user(request, "Every audit chain verifies.", messages.SUCCESS)
