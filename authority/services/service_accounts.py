"""Service accounts: an owner's OAuth2 applications (client credentials), managed by its admins.

A service account is a confidential django-oauth-toolkit Application with a membership in the
owner. Its client secret is drawn here from the CSPRNG (384 bits), given to the caller once, and
stored only as DOT's hash (DOT hashes `client_secret` on save, with whichever hasher the settings
name). An owner admin reaches the service accounts whose every owner it administers: one shared
with an owner it does not administer is refused (its secret is that owner's too), and one of
owners it does not belong to is not found.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from oauth2_provider.models import (
    AccessToken,
    RefreshToken,
    get_application_model,
)

from authority.errors import InvalidInput, NotAllowed, NotFound
from authority.models import ADMIN_ROLES, Membership, Owner, Role
from authority.principals import Principal
from authority.services.audit import AuditAction, audit_record
from authority.services.permissions import require_role

SECRET_BYTES = 48  # 384 bits of the CSPRNG, url-safe base64: 64 characters
NAME_MAX = 255


@dataclass(frozen=True)
class IssuedSecret:
    """A service account and its new client secret, which is shown this once."""

    application: Any
    client_secret: str


def _require_admin_of_every_owner(actor: Principal, application: Any) -> list[Owner]:
    owners = list(Owner.objects.filter(memberships__application=application).distinct())
    if not owners:
        raise NotFound("No such service account.")
    administered = set(
        Owner.objects.visible_to(actor, roles=ADMIN_ROLES)
        .filter(pk__in=[owner.pk for owner in owners])
        .values_list("pk", flat=True)
    )
    if not administered:
        raise NotFound("No such service account.")
    if len(administered) != len(owners):
        raise NotAllowed("This service account also serves an owner you do not administer.")
    return owners


def _new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


@transaction.atomic
def service_account_create(
    *, actor: Principal, owner: Owner, name: str, role: Role = Role.OPERATOR
) -> IssuedSecret:
    """A new client-credentials application, a member of `owner` with `role` (owner admins)."""
    require_role(actor, owner, ADMIN_ROLES)
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise InvalidInput(f"Between 1 and {NAME_MAX} characters.", field="name")
    if role not in Role.values:
        raise InvalidInput("One of viewer, operator, admin.", field="role")
    application_model = get_application_model()
    secret = _new_secret()
    application = application_model(
        name=name,
        client_type=application_model.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
    )
    application.save()  # DOT stores the secret's hash
    Membership.objects.create(owner=owner, application=application, role=role)
    audit_record(
        actor=actor, owner=owner, action=AuditAction.SERVICE_ACCOUNT_CREATE,
        object_type="application", object_id=application.client_id,
        detail={"name": name, "role": str(role)},
    )  # fmt: skip
    return IssuedSecret(application=application, client_secret=secret)


@transaction.atomic
def service_account_secret_rotate(*, actor: Principal, application: Any) -> IssuedSecret:
    """A new client secret; the old one stops working at once, and so do the access and
    refresh tokens issued with it (a rotated secret is usually a leaked one)."""
    owners = _require_admin_of_every_owner(actor, application)
    secret = _new_secret()
    application.client_secret = secret
    application.hash_client_secret = True
    application.save(update_fields=["client_secret", "hash_client_secret", "updated"])
    ended = AccessToken.objects.filter(application=application).delete()[0]
    RefreshToken.objects.filter(application=application).delete()
    for owner in owners:
        audit_record(
            actor=actor, owner=owner, action=AuditAction.SERVICE_ACCOUNT_ROTATE_SECRET,
            object_type="application", object_id=application.client_id,
            detail={"tokens_ended": ended},
        )  # fmt: skip
    return IssuedSecret(application=application, client_secret=secret)


@transaction.atomic
def service_account_delete(*, actor: Principal, application: Any) -> None:
    """Deletes the application, its memberships and its tokens; sessions it renewed keep
    their records (their renewer is gone) and the audit log keeps its client id."""
    owners = _require_admin_of_every_owner(actor, application)
    for owner in owners:
        audit_record(
            actor=actor, owner=owner, action=AuditAction.SERVICE_ACCOUNT_DELETE,
            object_type="application", object_id=application.client_id,
            detail={"name": application.name},
        )  # fmt: skip
    application.delete()
