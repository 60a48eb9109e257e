"""Owner and membership writes.

Creating an owner makes its signing key in the HSM, so this module builds on hsm, which builds on
the tenancy core (models, principals, audit): it sits above hsm in the layers contract
(pyproject.toml), with the services that use it (demo).
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.db import transaction

from authority.errors import InvalidInput, NotFound
from authority.models import ADMIN_ROLES, BearerFlavour, Membership, Owner, Role
from authority.principals import Principal
from authority.scoping import applications_visible_to, users_visible_to
from authority.services.audit import audit_record
from authority.services.permissions import require_role
from hsm.models import KeyPurpose
from hsm.services import key_generate
from tokens.wire.errors import WireError
from tokens.wire.ids import OwnerID


def owner_public_key_set(*, actor: Principal, owner: Owner, public_key: bytes) -> Owner:
    """Binds the owner's key; its NeoFS owner id is derived from it."""
    try:
        owner_id = str(OwnerID.from_public_key(public_key))
    except WireError as exc:
        raise InvalidInput(exc.message, field="public_key") from None
    with transaction.atomic():
        owner.public_key = public_key
        owner.neofs_owner_id = owner_id
        owner.save(update_fields=["public_key", "neofs_owner_id"])
        audit_record(
            actor=actor,
            owner=owner,
            action="owner.key_set",
            object_type="owner",
            object_id=owner.slug,
            detail={"neofs_owner_id": owner_id},
        )
    return owner


@transaction.atomic
def owner_create(
    *, actor: Principal, name: str, slug: str, public_key: bytes | None = None
) -> Owner:
    """A new tenant. With `public_key` the owner keeps its own wallet and signs its tokens
    itself; otherwise its P-256 key is generated in the HSM. Either key gives the owner id."""
    if Owner.objects.filter(slug=slug).exists():
        raise InvalidInput("An owner with this slug exists.", field="slug")
    owner = Owner.objects.create(name=name, slug=slug, signs_own_tokens=public_key is not None)
    audit_record(
        actor=actor, owner=owner, action="owner.create", object_type="owner", object_id=slug
    )
    if public_key is None:
        key = key_generate(purpose=KeyPurpose.OWNER_SIGNING, owner=owner, actor=actor)
        public_key = bytes(key.public_key or b"")
    owner_public_key_set(actor=actor, owner=owner, public_key=public_key)
    return owner


class OwnerChanges(TypedDict, total=False):
    """The owner settings an owner admin may change; an absent key stays as it is."""

    name: str
    bearer_flavour: str
    renew_period: int | None
    max_lifetime: int | None
    access_token_audiences: str


MAX_AUDIENCES = 32
MAX_AUDIENCE_LENGTH = 200  # as the trade's `audience` input


def audiences_normalize(text: str) -> str:
    """An owner's audience allow-list as stored: one audience a line, sorted, no duplicates;
    InvalidInput for one too long, with a control character, or too many."""
    audiences = sorted(set(text.split()))
    if len(audiences) > MAX_AUDIENCES:
        raise InvalidInput(f"At most {MAX_AUDIENCES} audiences.", field="access_token_audiences")
    for audience in audiences:
        if len(audience) > MAX_AUDIENCE_LENGTH or not audience.isprintable():
            raise InvalidInput(
                f"An audience is printable and at most {MAX_AUDIENCE_LENGTH} characters.",
                field="access_token_audiences",
            )
    return "\n".join(audiences)


@transaction.atomic
def owner_update(*, actor: Principal, owner: Owner, changes: OwnerChanges) -> Owner:
    """Changes an owner's settings (owner admins). Its key and owner id never change here."""
    require_role(actor, owner, ADMIN_ROLES)
    if "bearer_flavour" in changes and changes["bearer_flavour"] not in BearerFlavour.values:
        raise InvalidInput("One of neofs, frostfs.", field="bearer_flavour")
    if "access_token_audiences" in changes:
        changes["access_token_audiences"] = audiences_normalize(changes["access_token_audiences"])
    for name, value in changes.items():
        setattr(owner, name, value)
    owner.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        owner=owner,
        action="owner.update",
        object_type="owner",
        object_id=owner.slug,
        detail={"fields": sorted(changes)},
    )
    return owner


@transaction.atomic
def membership_set(
    *, actor: Principal, owner: Owner, role: Role, user: Any = None, application: Any = None
) -> Membership:
    """Adds the member, or changes its role (owner admins). The member is a user or an
    application the actor may name (authority.scoping): one already in an owner it administers,
    or in none yet — never another owner's, which stays invisible (404)."""
    require_role(actor, owner, ADMIN_ROLES)
    if (user is None) == (application is None):
        raise InvalidInput("A membership names either a user or an application.", field="user")
    if user is not None and not users_visible_to(actor).filter(pk=user.pk).exists():
        raise NotFound("No such user.", field="user")
    if application is not None and (
        not applications_visible_to(actor).filter(pk=application.pk).exists()
    ):
        raise NotFound("No such application.", field="application")
    if user is not None:
        membership, created = Membership.objects.update_or_create(
            owner=owner, user=user, defaults={"role": role}
        )
    else:
        membership, created = Membership.objects.update_or_create(
            owner=owner, application=application, defaults={"role": role}
        )
    audit_record(
        actor=actor,
        owner=owner,
        action="membership.set",
        object_type="membership",
        object_id=str(membership.pk),
        detail={"role": str(role), "created": created, "member": str(user or application)},
    )
    return membership


@transaction.atomic
def membership_delete(*, actor: Principal, membership: Membership) -> None:
    """Removes a member from an owner (owner admins)."""
    require_role(actor, membership.owner, ADMIN_ROLES)
    audit_record(
        actor=actor,
        owner=membership.owner,
        action="membership.delete",
        object_type="membership",
        object_id=str(membership.pk),
        detail={"member": str(membership.user or membership.application)},
    )
    membership.delete()
