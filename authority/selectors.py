"""Reads of the tenancy app, always scoped to what the principal may see."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from authority.errors import InvalidInput, NotFound
from authority.models import ADMIN_ROLES, Container, EACLTable, Membership, Owner
from authority.principals import Principal

M = TypeVar("M", bound=Model)


def owner_list(*, principal: Principal) -> QuerySet[Owner]:
    return Owner.objects.visible_to(principal)


def owner_get(*, principal: Principal, slug: str) -> Owner:
    owner = owner_list(principal=principal).filter(slug=slug).first()
    if owner is None:
        raise NotFound("No such owner.")
    return owner


def container_list(*, principal: Principal) -> QuerySet[Container]:
    return Container.objects.visible_to(principal).select_related("owner", "eacl_table")


def container_get(*, principal: Principal, cid: bytes) -> Container:
    container = container_list(principal=principal).filter(cid=cid).first()
    if container is None:
        raise NotFound("No such container.")
    return container


def eacl_table_list(*, principal: Principal) -> QuerySet[EACLTable]:
    return (
        EACLTable.objects.visible_to(principal)
        .select_related("owner", "container")
        .prefetch_related("records__filters", "records__targets")
    )


def get_by_uuid(queryset: QuerySet[M], value: object, *, field: str, what: str) -> M:
    """The row of a scoped queryset whose UUID `field` is `value`; a malformed, unknown or
    foreign id is the same 404."""
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No such {what}.") from None
    found = queryset.filter(**{field: parsed}).first()
    if found is None:
        raise NotFound(f"No such {what}.")
    return found


def eacl_table_get(*, principal: Principal, public_id: str) -> EACLTable:
    return get_by_uuid(
        eacl_table_list(principal=principal), public_id, field="public_id", what="eACL table"
    )


def member_principal_get(*, owner: Owner, label: str) -> Principal:
    """A principal of `owner` named as `user:<username>` or `app:<client_id>`."""
    kind, _, name = label.partition(":")
    membership = None
    if kind == "user" and name:
        membership = (
            Membership.objects.select_related("user")
            .filter(owner=owner, user__username=name)
            .first()
        )
    elif kind == "app" and name:
        membership = (
            Membership.objects.select_related("application")
            .filter(owner=owner, application__client_id=name)
            .first()
        )
    if membership is None:
        raise InvalidInput(
            "Not a principal of this owner (use user:<username> or app:<client_id>).",
            field="renewer",
        )
    return Principal(user=membership.user, application=membership.application)


def service_account_list(*, actor: Principal) -> QuerySet[Membership]:
    """The memberships of service accounts in the owners `actor` administers."""
    administered = Owner.objects.visible_to(actor, roles=ADMIN_ROLES)
    return (
        Membership.objects.filter(application__isnull=False, owner__in=administered)
        .select_related("owner", "application")
        .order_by("owner__slug", "application__name", "pk")
    )


def service_account_get(*, actor: Principal, application_id: int) -> Any:
    """A service account of an owner `actor` administers (404 otherwise)."""
    membership = service_account_list(actor=actor).filter(application_id=application_id).first()
    if membership is None:
        raise NotFound("No such service account.")
    return membership.application
