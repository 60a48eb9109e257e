"""Bearer grants (NeoFS bearer tokens): issued by a member of a container's owner for a receiver
with an eACL table and an epoch lifetime, signed with the owner's HSM key; revocable."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from authority.epoch import current_epoch, epochs_for
from authority.errors import Conflict, InvalidInput, NotFound
from authority.models import Container
from authority.principals import Principal
from authority.services.audit import AuditAction, audit_record
from authority.services.eacl_tables import eacl_records_check
from authority.services.permissions import require_role
from hsm.models import KeyPurpose
from hsm.selectors import key_active_cached
from hsm.signer import HSMSigner
from tokens.models import BearerGrant
from tokens.wire import eacl as wire
from tokens.wire.bearer import BearerBody, BearerToken, Flavour
from tokens.wire.ids import ContainerID, OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.signature import Scheme
from tokens.wire.token import Check

MAX_LIFETIME_SECONDS = 30 * 86400


def token_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class GrantLifetime:
    """A bearer grant's lifetime: `seconds` from now (rounded up to epochs), or epochs given
    directly — `exp`, and optionally `nbf` and `iat` (default: the current epoch)."""

    seconds: int | None = None
    exp: int | None = None
    nbf: int | None = None
    iat: int | None = None

    def resolve(self, epoch: int) -> Lifetime:
        if (self.seconds is None) == (self.exp is None):
            raise InvalidInput("Give either a lifetime in seconds or an exp epoch.", field="exp")
        if self.seconds is not None:
            if not 0 < self.seconds <= MAX_LIFETIME_SECONDS:
                raise InvalidInput(
                    f"Between 1 and {MAX_LIFETIME_SECONDS} seconds.", field="lifetime"
                )
            return Lifetime(exp=epoch + epochs_for(self.seconds), nbf=epoch, iat=epoch)
        assert self.exp is not None  # noqa: S101 - one of the two, checked above
        lifetime = Lifetime(
            exp=self.exp,
            nbf=epoch if self.nbf is None else self.nbf,
            iat=epoch if self.iat is None else self.iat,
        )
        lifetime_check(lifetime, epoch)
        return lifetime


def lifetime_check(lifetime: Lifetime | None, epoch: int) -> None:
    """A bearer token's epochs, issued here or imported: not already over, `nbf` and `iat` not
    after `exp`, and `exp` no further than MAX_LIFETIME_SECONDS from now."""
    if lifetime is None or lifetime.exp is None:
        raise InvalidInput("A bearer token needs an exp epoch.", field="exp")
    if lifetime.exp < epoch:
        raise InvalidInput(f"exp {lifetime.exp} is before the current epoch {epoch}.", field="exp")
    if lifetime.exp > epoch + epochs_for(MAX_LIFETIME_SECONDS):
        raise InvalidInput(
            f"exp is at most {epochs_for(MAX_LIFETIME_SECONDS)} epochs from now.", field="exp"
        )
    for name in ("nbf", "iat"):
        value = getattr(lifetime, name) or 0
        if value > lifetime.exp:
            raise InvalidInput(f"{name} is after exp.", field=name)


def _grant_record(
    *, actor: Principal, container: Container, token: BearerToken, action: AuditAction
) -> BearerGrant:
    raw = token.encode()
    body = token.body
    lifetime = body.lifetime or Lifetime()
    if BearerGrant.objects.filter(token_digest=token_digest(raw)).exists():
        raise Conflict("This bearer token is already registered.")
    grant = BearerGrant.objects.create(
        owner=container.owner,
        container_cid=bytes(container.cid),
        receiver=str(body.owner_id) if body.owner_id else "",
        flavour=body.flavour.value,
        allow_impersonate=body.allow_impersonate,
        token=raw,
        token_digest=token_digest(raw),
        exp=lifetime.exp or 0,
        nbf=lifetime.nbf or 0,
        iat=lifetime.iat or 0,
        issued_by=actor.label,
    )
    records = len(body.eacl_table.records) if body.eacl_table else 0
    audit_record(
        actor=actor, owner=container.owner, action=action, object_type="bearer_grant",
        object_id=str(grant.id), token=raw,
        detail={"receiver": grant.receiver or "anyone", "records": records,
                "exp": grant.exp, "allow_impersonate": grant.allow_impersonate},
    )  # fmt: skip
    return grant


@transaction.atomic
def bearer_grant_issue(
    *, actor: Principal, container: Container, receiver: OwnerID | None, table: wire.Table,
    lifetime: int | GrantLifetime, allow_impersonate: bool = False,
) -> tuple[BearerGrant, BearerToken]:  # fmt: skip
    owner = container.owner
    require_role(actor, owner)
    if owner.signs_own_tokens:
        raise Conflict(
            "This owner signs its own tokens: sign the bearer token with its wallet and import it."
        )
    eacl_records_check(table.records)
    cid = ContainerID(bytes(container.cid))
    if table.container_id not in (None, cid):
        raise InvalidInput("The table is for another container.", field="table.containerID")
    flavour = Flavour(owner.bearer_flavour)
    if allow_impersonate and flavour is not Flavour.FROSTFS:
        raise InvalidInput(
            "allow_impersonate is a FrostFS bearer token's flag; this owner issues NeoFS ones.",
            field="allow_impersonate",
        )
    epoch = current_epoch()
    bounds = lifetime if isinstance(lifetime, GrantLifetime) else GrantLifetime(seconds=lifetime)
    issuer = OwnerID.from_string(owner.neofs_owner_id or "", "owner")
    body = BearerBody(
        eacl_table=wire.Table(container_id=cid, records=table.records, version=table.version),
        owner_id=receiver,
        lifetime=bounds.resolve(epoch),
        issuer=issuer if flavour is Flavour.NEOFS else None,
        allow_impersonate=allow_impersonate,
        flavour=flavour,
    )
    signer = HSMSigner(key_active_cached(purpose=KeyPurpose.OWNER_SIGNING, owner=owner))
    token = BearerToken(body).signed(signer, Scheme.ECDSA_RFC6979_SHA256)
    grant = _grant_record(
        actor=actor, container=container, token=token, action=AuditAction.BEARER_GRANT_ISSUE
    )
    return grant, token


@transaction.atomic
def bearer_grant_import(
    *, actor: Principal, token: BearerToken, container: Container | None = None
) -> BearerGrant:
    """Registers a bearer token an owner signed itself (a wallet owner's): it is listed, audited,
    and revocable like an issued one. Checked as a node would check it (neofs-node
    acl/v2/service.go decodeAndVerifyBearerTokenCommon, verifyBearerTokenAgainstRequest): the
    signature, the signing key deriving the issuer, the issuer being the container's owner, the
    container, and its lifetime (not over, bounded as an issued grant's)."""
    check = token.check()
    if check is not Check.OK:
        reason = "unsigned" if check is Check.UNSIGNED else "the signature does not verify"
        if check is Check.ISSUER_MISMATCH:
            reason = "the signing key does not derive the issuer"
        raise InvalidInput(f"The bearer token is refused: {reason}.", field="token")
    table = token.body.eacl_table
    if table is None:
        raise InvalidInput("A bearer token carries an eACL table.", field="token")
    cid = table.container_id or (ContainerID(bytes(container.cid)) if container else None)
    if cid is None:
        raise InvalidInput("Name the container (the token's table names none).", field="container")
    if container is not None and bytes(container.cid) != cid.value:
        raise InvalidInput("The token's table is for another container.", field="container")
    found = (
        Container.objects.visible_to(actor).select_related("owner").filter(cid=cid.value).first()
    )
    if found is None:
        raise NotFound("No such container.", field="container")
    require_role(actor, found.owner)
    if str(token.resolve_issuer()) != found.owner.neofs_owner_id:
        raise InvalidInput("The bearer token's issuer is not the container's owner.", field="token")
    eacl_records_check(table.records)
    lifetime_check(token.body.lifetime, current_epoch())
    return _grant_record(
        actor=actor, container=found, token=token, action=AuditAction.BEARER_GRANT_IMPORT
    )


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
