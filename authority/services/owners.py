"""Owner and membership writes.

Creating an owner makes its signing key in the HSM, so this module builds on hsm, which builds on
the tenancy core (models, principals, audit): it sits above hsm in the layers contract
(pyproject.toml), with the services that use it (demo).
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from authority.errors import InvalidInput, NotAllowed, NotFound
from authority.models import ADMIN_ROLES, BearerFlavour, Membership, Owner, Role
from authority.principals import Principal
from authority.scoping import applications_visible_to, users_visible_to
from authority.services.audit import AuditAction, audit_record
from authority.services.oauth2_clients import oauth2_tokens_end
from authority.services.permissions import require_role
from hsm.models import KeyPurpose
from hsm.services import key_generate
from tokens.wire.errors import WireError
from tokens.wire.ids import OwnerID
from tokens.wire.signature import load_public_key


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
            action=AuditAction.OWNER_KEY_SET,
            object_type="owner",
            object_id=owner.slug,
            detail={"neofs_owner_id": owner_id},
        )
    return owner


NAME_MAX = Owner._meta.get_field("name").max_length or 200
SLUG_MAX = Owner._meta.get_field("slug").max_length or 64
SLUG_PATTERN = re.compile(r"[-a-zA-Z0-9_]+")

# An owner's own renew period and maximum lifetime: at least a second, at most a year (a
# PositiveIntegerField holds more, but no session should outlive its owner's key rotations).
MAX_OWNER_PERIOD = 365 * 24 * 3600


def _check_owner_settings(
    *, bearer_flavour: str | None, renew_period: int | None, max_lifetime: int | None
) -> None:
    if bearer_flavour is not None and bearer_flavour not in BearerFlavour.values:
        raise InvalidInput("One of neofs, frostfs.", field="bearer_flavour")
    for field, seconds in (("renew_period", renew_period), ("max_lifetime", max_lifetime)):
        if seconds is not None and not 1 <= seconds <= MAX_OWNER_PERIOD:
            raise InvalidInput(f"Between 1 and {MAX_OWNER_PERIOD} seconds.", field=field)
    if renew_period is not None and max_lifetime is not None and renew_period > max_lifetime:
        raise InvalidInput("The renew period exceeds the maximum lifetime.", field="renew_period")


def require_tenant_maker(actor: Principal) -> None:
    """New tenants are made by the service's operator: the authority itself (commands) or an
    active superuser (console or API). No membership grants it, and no service account."""
    user = actor.user
    if actor.internal or (
        actor.application is None and user is not None and user.is_active and user.is_superuser
    ):
        return
    raise NotAllowed("Only a superuser creates owners.")


@transaction.atomic
def owner_create(
    *,
    actor: Principal,
    name: str,
    slug: str,
    public_key: bytes | None = None,
    bearer_flavour: str = BearerFlavour.NEOFS,
    renew_period: int | None = None,
    max_lifetime: int | None = None,
) -> Owner:
    """A new tenant. With `public_key` the owner keeps its own wallet and signs its tokens
    itself (SPEC §2): no key is made, the authority holds only the public key. Otherwise its
    P-256 key is generated in the HSM. Either key gives the owner id."""
    require_tenant_maker(actor)
    if not 1 <= len(name) <= NAME_MAX:
        raise InvalidInput(f"Between 1 and {NAME_MAX} characters.", field="name")
    if len(slug) > SLUG_MAX or not SLUG_PATTERN.fullmatch(slug):
        raise InvalidInput(
            f"Letters, digits, hyphens and underscores, at most {SLUG_MAX}.", field="slug"
        )
    if Owner.objects.filter(slug=slug).exists():
        raise InvalidInput("An owner with this slug exists.", field="slug")
    _check_owner_settings(
        bearer_flavour=bearer_flavour, renew_period=renew_period, max_lifetime=max_lifetime
    )
    if public_key is not None:
        try:
            load_public_key(public_key)  # a wallet's key must be a point its signatures verify by
            owner_id = str(OwnerID.from_public_key(public_key))
        except WireError as exc:
            raise InvalidInput(exc.message, field="public_key") from None
        if Owner.objects.filter(neofs_owner_id=owner_id).exists():
            raise InvalidInput("An owner with this key exists.", field="public_key")
    owner = Owner.objects.create(
        name=name,
        slug=slug,
        signs_own_tokens=public_key is not None,
        bearer_flavour=bearer_flavour,
        renew_period=renew_period,
        max_lifetime=max_lifetime,
    )
    audit_record(
        actor=actor,
        owner=owner,
        action=AuditAction.OWNER_CREATE,
        object_type="owner",
        object_id=slug,
        detail={
            "signs_own_tokens": owner.signs_own_tokens,
            "bearer_flavour": bearer_flavour,
            "renew_period": renew_period,
            "max_lifetime": max_lifetime,
        },
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
    _check_owner_settings(
        bearer_flavour=changes.get("bearer_flavour"),
        renew_period=changes.get("renew_period", owner.renew_period),
        max_lifetime=changes.get("max_lifetime", owner.max_lifetime),
    )
    if "access_token_audiences" in changes:
        changes["access_token_audiences"] = audiences_normalize(changes["access_token_audiences"])
    for name, value in changes.items():
        setattr(owner, name, value)
    owner.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        owner=owner,
        action=AuditAction.OWNER_UPDATE,
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
        action=AuditAction.MEMBERSHIP_SET,
        object_type="membership",
        object_id=str(membership.pk),
        detail={"role": str(role), "created": created, "member": str(user or application)},
    )
    return membership


@transaction.atomic
def resource_server_register(*, actor: Principal, owner: Owner, name: str) -> tuple[Any, str]:
    """A resource-server client of `owner` (owner admins): an OAuth2 application (client
    credentials) whose only membership is the RESOURCE_SERVER role, so it may verify and
    introspect for this owner and nothing else. Returns it and its client secret, shown once
    (django-oauth-toolkit stores only a hash of it)."""
    require_role(actor, owner, ADMIN_ROLES)
    name = name.strip()
    if not 0 < len(name) <= 255:
        raise InvalidInput("A name of 1 to 255 characters.", field="name")
    secret = generate_client_secret()
    application = get_application_model().objects.create(
        name=name,
        client_type="confidential",
        authorization_grant_type="client-credentials",
        client_secret=secret,
    )
    membership_set(actor=actor, owner=owner, role=Role.RESOURCE_SERVER, application=application)
    return application, secret


@transaction.atomic
def membership_delete(*, actor: Principal, membership: Membership) -> None:
    """Removes a member from an owner (owner admins), and ends the member's OAuth2 access and
    refresh tokens: a token must not outlive the membership it was granted under."""
    require_role(actor, membership.owner, ADMIN_ROLES)
    audit_record(
        actor=actor,
        owner=membership.owner,
        action=AuditAction.MEMBERSHIP_DELETE,
        object_type="membership",
        object_id=str(membership.pk),
        detail={"member": str(membership.user or membership.application)},
    )
    oauth2_tokens_end(user=membership.user, application=membership.application)
    membership.delete()
