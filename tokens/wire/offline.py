"""Signing with the owner's own key, offline (`frostfs-cli util sign session-token|bearer-token`):
fill a blank (dynamic) session token's context and issuer, or a bearer token's issuer, then sign.

Token files come in the binary form or NeoFS JSON; `token_file_read` tells them apart.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TypeVar

from tokens.wire.bearer import BearerToken, Flavour
from tokens.wire.errors import WireError
from tokens.wire.ids import OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.session import ContainerContext, ObjectContext, SessionToken
from tokens.wire.signature import Scheme, SoftwareSigner

TokenT = TypeVar("TokenT", SessionToken, BearerToken)


def token_file_read(data: bytes, kind: type[TokenT]) -> TokenT:
    """A token from a file's bytes: NeoFS JSON when it starts with `{`, else the binary form."""
    if data.lstrip()[:1] == b"{":
        return kind.from_json_text(data)
    return kind.decode(data)


def token_file_bytes(token: SessionToken | BearerToken, *, json_form: bool) -> bytes:
    if json_form:
        return (json.dumps(token.to_json(), indent=2) + "\n").encode()
    return token.encode()


def session_token_sign(
    token: SessionToken,
    *,
    signer: SoftwareSigner,
    context: ObjectContext | ContainerContext | None = None,
    lifetime: Lifetime | None = None,
    scheme: Scheme = Scheme.ECDSA_RFC6979_SHA256,
) -> SessionToken:
    """The token with its issuer set to the signer's owner id (and the context and lifetime, when
    given, filled in), signed by the signer. A token already issued by another owner is refused."""
    owner = OwnerID.from_public_key(signer.public_key())
    body = token.body
    if body.owner_id is not None and body.owner_id != owner:
        raise WireError("body.ownerID", "the token is issued by another owner than this key")
    changes: dict[str, object] = {"owner_id": owner}
    if context is not None:
        changes["context"] = context
    if lifetime is not None:
        changes["lifetime"] = lifetime
    body = dataclasses.replace(body, **changes)  # type: ignore[arg-type]
    if body.context is None:
        raise WireError("body", "the token has no context: give verbs and a container")
    if not body.id or not body.session_key:
        raise WireError("body", "a session token needs an id and a session key")
    return SessionToken(body).signed(signer, scheme)


def bearer_token_sign(
    token: BearerToken,
    *,
    signer: SoftwareSigner,
    scheme: Scheme = Scheme.ECDSA_RFC6979_SHA256,
) -> BearerToken:
    """The bearer token signed by its container owner's key; the NeoFS flavour names the issuer."""
    owner = OwnerID.from_public_key(signer.public_key())
    body = token.body
    if body.flavour is Flavour.NEOFS:
        if body.issuer is not None and body.issuer != owner:
            raise WireError("body.issuer", "the token names another issuer than this key")
        body = dataclasses.replace(body, issuer=owner)
    return BearerToken(body).signed(signer, scheme)
