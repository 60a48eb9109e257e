"""Owner scoping for the admin: a superuser sees everything; a staff member sees and edits only the
rows of owners they belong to — in lists, forms, filters, autocompletes and actions alike.

Permissions come from the member's role (viewer reads; operator and admin write), not from Django's
per-model permissions, so that the admin and the API enforce the same rule.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from authority.models import WRITER_ROLES, Container, EACLTable, Membership, Owner, Role
from authority.principals import Principal


def owner_ids(request: HttpRequest, roles: frozenset[Role] | None = None) -> set[int] | None:
    """Ids of the owners the user belongs to (with one of `roles`); None means all (superuser)."""
    user = request.user
    if user.is_superuser:
        return None
    cache_key = f"_owner_ids_{sorted(roles) if roles else 'any'}"
    cached = getattr(request, cache_key, None)
    if cached is None:
        memberships = Membership.objects.filter(user=cast(Any, user))
        if roles is not None:
            memberships = memberships.filter(role__in=roles)
        cached = set(memberships.values_list("owner_id", flat=True))
        setattr(request, cache_key, cached)
    return cached


def actor(request: HttpRequest) -> Principal:
    return Principal(user=request.user)


class ScopedOwnerFilter(admin.RelatedFieldListFilter):
    """The owner filter offers only the owners the user belongs to."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list[Any]:
        ids = owner_ids(request)
        limit = {} if ids is None else {"pk__in": ids}
        return field.get_choices(include_blank=False, limit_choices_to=limit, ordering=("slug",))


class OwnerScopedAdmin(admin.ModelAdmin):
    """Base admin for models that belong to an owner through `owner_path`."""

    owner_path = "owner"
    write_roles: frozenset[Role] = WRITER_ROLES

    def owner_of(self, obj: Model) -> Owner:
        value: Any = obj
        for part in self.owner_path.split("__"):
            value = getattr(value, part)
        return value

    def _scope(
        self, request: HttpRequest, queryset: QuerySet[Any], roles: frozenset[Role] | None = None
    ) -> QuerySet[Any]:
        ids = owner_ids(request, roles)
        if ids is None:
            return queryset
        return queryset.filter(**{f"{self.owner_path}__in": ids})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self._scope(request, super().get_queryset(request))

    def _allowed(
        self, request: HttpRequest, obj: Model | None, roles: frozenset[Role] | None
    ) -> bool:
        if not (request.user.is_active and request.user.is_staff):
            return False
        ids = owner_ids(request, roles)
        if ids is None:
            return True
        if obj is None:
            return bool(ids)
        return self.owner_of(obj).pk in ids

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, None, None)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj, None)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request, None, self.write_roles)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj, self.write_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj, self.write_roles)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        ids = owner_ids(request, self.write_roles)
        if ids is not None:
            if related is Owner:
                kwargs["queryset"] = Owner.objects.filter(pk__in=ids)
            elif related in (Container, EACLTable):
                kwargs["queryset"] = related.objects.filter(owner__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The form's choices are scoped already; this guards a crafted POST all the same.
        ids = owner_ids(request, self.write_roles)
        if ids is not None and self.owner_of(obj).pk not in ids:
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Bulk delete: every row must be writable; each goes through delete_model (services)."""
        writable = self._scope(request, queryset, self.write_roles)
        if writable.count() != queryset.count():
            raise PermissionDenied
        for obj in queryset:
            self.delete_model(request, obj)


class OwnerScopedInline(admin.TabularInline):
    """Inline rows follow their parent's scoping: editable by writers of the parent's owner."""

    extra = 0

    def _writer(self, request: HttpRequest, obj: Model | None) -> bool:
        parent_admin = self.admin_site._registry.get(self.parent_model)
        if parent_admin is None:
            return False
        return bool(parent_admin.has_change_permission(request, obj))

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        parent_admin = self.admin_site._registry.get(self.parent_model)
        return bool(parent_admin and parent_admin.has_view_permission(request, obj))

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._writer(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._writer(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._writer(request, obj)
