"""Owner and membership writes.

Creating an owner makes its signing key in the HSM, so this module builds on hsm, which builds on
the tenancy core (models, principals, audit): it sits above hsm in the layers contract
(pyproject.toml), with the services that use it (demo).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from authority.errors import InvalidInput
from authority.models import Membership, Owner, Role
from authority.principals import Principal
from authority.services.audit import audit_record
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


@transaction.atomic
def membership_set(
    *, actor: Principal, owner: Owner, role: Role, user: Any = None, application: Any = None
) -> Membership:
    """Adds the member, or changes its role."""
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
