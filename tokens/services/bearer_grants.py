"""Bearer grants (NeoFS bearer tokens): issued by a member of a container's owner for a receiver
with an eACL table and an epoch lifetime, signed with the owner's HSM key; revocable."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from authority.epoch import current_epoch, epochs_for
from authority.errors import Conflict, InvalidInput
from authority.models import Container
from authority.principals import Principal
from authority.services.audit import AuditAction, audit_record
from authority.services.permissions import require_role
from hsm.models import KeyPurpose
from hsm.selectors import key_active_cached
from hsm.signer import HSMSigner
from tokens.models import BearerGrant
from tokens.wire import eacl as wire
from tokens.wire.bearer import BearerBody, BearerToken, Flavour
from tokens.wire.errors import WireError
from tokens.wire.ids import ContainerID, OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.signature import Scheme

MAX_LIFETIME_SECONDS = 30 * 86400


def token_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@transaction.atomic
def bearer_grant_issue(
    *, actor: Principal, container: Container, receiver: OwnerID | None, table: wire.Table,
    lifetime: int,
) -> tuple[BearerGrant, BearerToken]:  # fmt: skip
    owner = container.owner
    require_role(actor, owner)
    if owner.signs_own_tokens:
        raise Conflict("This owner signs its own tokens: sign the bearer token with its wallet.")
    if not 0 < lifetime <= MAX_LIFETIME_SECONDS:
        raise InvalidInput(f"Between 1 and {MAX_LIFETIME_SECONDS} seconds.", field="lifetime")
    try:
        wire.require_named(table.records, "records")
    except WireError as exc:
        raise InvalidInput(exc.message, field=exc.field) from None
    cid = ContainerID(bytes(container.cid))
    if table.container_id not in (None, cid):
        raise InvalidInput("The table is for another container.", field="table.containerID")
    epoch = current_epoch()
    flavour = Flavour(owner.bearer_flavour)
    issuer = OwnerID.from_string(owner.neofs_owner_id or "", "owner")
    body = BearerBody(
        eacl_table=wire.Table(container_id=cid, records=table.records, version=table.version),
        owner_id=receiver,
        lifetime=Lifetime(exp=epoch + epochs_for(lifetime), nbf=epoch, iat=epoch),
        issuer=issuer if flavour is Flavour.NEOFS else None,
        flavour=flavour,
    )
    signer = HSMSigner(key_active_cached(purpose=KeyPurpose.OWNER_SIGNING, owner=owner))
    token = BearerToken(body).signed(signer, Scheme.ECDSA_RFC6979_SHA256)
    raw = token.encode()
    grant = BearerGrant.objects.create(
        owner=owner,
        container_cid=bytes(container.cid),
        receiver=str(receiver) if receiver else "",
        flavour=flavour.value,
        token=raw,
        token_digest=token_digest(raw),
        exp=body.lifetime.exp,  # type: ignore[union-attr]
        nbf=epoch,
        iat=epoch,
        issued_by=actor.label,
    )
    audit_record(
        actor=actor, owner=owner, action=AuditAction.BEARER_GRANT_ISSUE, object_type="bearer_grant",
        object_id=str(grant.id), token=raw,
        detail={"receiver": grant.receiver or "anyone", "records": len(table.records)},
    )  # fmt: skip
    return grant, token


@transaction.atomic
def bearer_grant_revoke(*, actor: Principal, grant: BearerGrant) -> BearerGrant:
    """Idempotent; verify refuses the token from then on."""
    require_role(actor, grant.owner)
    grant = BearerGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, owner=grant.owner_id, action=AuditAction.BEARER_GRANT_REVOKE,
            object_type="bearer_grant", object_id=str(grant.id),
        )  # fmt: skip
    return grant
