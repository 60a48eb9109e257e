"""The admin as a thin interface: rows come from `visible_to` (authority.scoping) and writes go
through the services, exactly as for the API.

- Lists, change pages, filters, foreign-key choices and autocompletes show the rows of the
  operator's owners (`visible_to(principal)`); forms offer, as choices, only the owners, containers
  and tables where the operator may write (`visible_to(principal, roles=write_roles)`), and as
  members only the users and applications it may name (`users_visible_to`, …).
- Saving calls a service, whose checks and audit rows apply. A refusal (`AuthorityError`) rolls the
  save back and shows the same form again, with what was typed and the service's reason on the
  field it names — never a 500.

Permissions come from the member's role (viewer reads; operator and admin write), not from Django's
per-model permissions: the admin and the API enforce the same rule.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from oauth2_provider.models import get_application_model

from authority.errors import AuthorityError
from authority.models import WRITER_ROLES, Owner, Role
from authority.principals import Principal, console_principal
from authority.scoping import OwnerScoped, applications_visible_to, users_visible_to


def actor(request: HttpRequest) -> Principal:
    """The operator, as the console's principal (a superuser sees every owner here)."""
    return console_principal(request)


def writable_owner_ids(request: HttpRequest, roles: frozenset[Role]) -> set[int] | None:
    """Ids of the owners where the operator holds one of `roles` (None: every owner), from
    `visible_to`, remembered for the request (permission checks run many times a page)."""
    principal = actor(request)
    if principal.sees_everything:
        return None
    cache_key = f"_owner_ids_{'-'.join(sorted(roles))}"
    found = getattr(request, cache_key, None)
    if found is None:
        found = set(Owner.objects.visible_to(principal, roles=roles).values_list("pk", flat=True))
        setattr(request, cache_key, found)
    return found


def owner_of(obj: Model) -> Any:
    """The Owner an object belongs to, along its model's `owner_path`."""
    value: Any = obj
    path = getattr(obj, "owner_path", "owner")
    for part in path.split("__") if path else ():
        value = getattr(value, part)
    return value


class ScopedOwnerFilter(admin.RelatedFieldListFilter):
    """The owner filter offers only the owners the operator belongs to."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list[Any]:
        visible = Owner.objects.visible_to(actor(request)).values_list("pk", flat=True)
        return field.get_choices(
            include_blank=False, limit_choices_to={"pk__in": visible}, ordering=("slug",)
        )


class ScopedAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget, re-shown after a bad post: a value that is no key of the
    related model (" ", "x") is shown as no choice, where Django's own looks it up and fails."""

    def optgroups(self, name: str, value: Any, attr: Any = None) -> Any:
        related = self.field.remote_field.model._meta
        to_field = related.get_field(
            getattr(self.field.remote_field, "field_name", related.pk.attname)
        )
        kept = []
        for item in value:
            try:
                to_field.clean(item, None)  # its type and, for integers, the database's range
            except (ValidationError, ValueError, TypeError):
                continue
            kept.append(item)
        return super().optgroups(name, kept, attr)


class ServiceForm(forms.ModelForm):
    """A model form that shows a service's refusal of the last attempt to save it."""

    refusal: AuthorityError | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        refusal = self.refusal
        if refusal is not None:
            field = refusal.field if refusal.field in self.fields else None
            self.add_error(field, refusal.detail)
        return cleaned


class OwnerScopedAdmin(admin.ModelAdmin):
    """Base admin for tenant models (`authority.scoping.OwnerScoped`)."""

    form = ServiceForm
    write_roles: frozenset[Role] = WRITER_ROLES

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).visible_to(actor(request))  # type: ignore[attr-defined]

    def writable(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """The rows of `queryset` the operator may change (for actions)."""
        return queryset.visible_to(actor(request), roles=self.write_roles)  # type: ignore[attr-defined]

    def _allowed(
        self, request: HttpRequest, obj: Model | None, roles: frozenset[Role] | None
    ) -> bool:
        if not (request.user.is_active and request.user.is_staff):
            return False
        ids = writable_owner_ids(request, roles or frozenset(Role))
        if ids is None:
            return True
        if obj is None:
            return bool(ids)
        owner = owner_of(obj)
        return owner is not None and owner.pk in ids

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
        principal = actor(request)
        if issubclass(related, OwnerScoped):
            manager = related._default_manager
            kwargs["queryset"] = manager.visible_to(principal, roles=self.write_roles)
        elif related is get_user_model():
            kwargs["queryset"] = users_visible_to(principal)
        elif related is get_application_model():
            kwargs["queryset"] = applications_visible_to(principal)
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = ScopedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is not None:
            form = type(form.__name__, (form,), {"refusal": refusal})
        return form

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:  # fmt: skip
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except AuthorityError as refusal:
            # The save ran in the view's transaction, which rolled back: show the same form
            # again, bound to what was posted, with the service's reason.
            request._service_refusal = refusal  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        raise PermissionDenied  # every tenant admin saves through a service (see subclasses)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        raise PermissionDenied  # deleting, where allowed, goes through a service

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """What a delete takes along, shown on the confirmation page. Rows that go with their
        parent (an eACL table's records) need no admin permission of their own: the service that
        deletes the parent checks the operator's role."""
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Bulk delete: every row must be writable; each goes through delete_model (services)."""
        if self.writable(request, queryset).count() != queryset.count():
            raise PermissionDenied
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyScopedAdmin(OwnerScopedAdmin):
    """A tenant admin that only shows rows: its model changes through the API, or through this
    admin's actions (which call the services)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class OwnerScopedInline(admin.TabularInline):
    """Inline rows are shown for reading: their parent's service writes them."""

    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        parent_admin = self.admin_site._registry.get(self.parent_model)
        return bool(parent_admin and parent_admin.has_view_permission(request, obj))

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
