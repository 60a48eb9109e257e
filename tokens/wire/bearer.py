"""neo.fs.v2 acl.BearerToken: a container owner's eACL table granted to a receiver for a lifetime.

Field 4 of the body differs by flavour: NeoFS writes the `issuer` owner id, FrostFS a
`allow_impersonate` flag. The owner chooses the flavour; decoding tells them apart by wire type.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from tokens.wire import jsonform as js
from tokens.wire.eacl import Table
from tokens.wire.errors import WireError
from tokens.wire.ids import OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.protobuf import LEN, VARINT, Reader, Writer
from tokens.wire.signature import Scheme, Signature, Signer, sign_with
from tokens.wire.token import Check, check_signature, load_json, require_stable


class Flavour(enum.Enum):
    NEOFS = "neofs"
    FROSTFS = "frostfs"


@dataclass(frozen=True, slots=True)
class BearerBody:
    """neo.fs.v2 acl.BearerToken.Body."""

    eacl_table: Table | None = None
    owner_id: OwnerID | None = None  # the receiver; None = anyone holding the token
    lifetime: Lifetime | None = None
    issuer: OwnerID | None = None  # NeoFS flavour
    allow_impersonate: bool = False  # FrostFS flavour
    flavour: Flavour = Flavour.NEOFS

    def __post_init__(self) -> None:
        if self.flavour is Flavour.FROSTFS and self.issuer is not None:
            raise WireError("issuer", "FrostFS bearer tokens carry no issuer field")
        if self.flavour is Flavour.NEOFS and self.allow_impersonate:
            raise WireError("allow_impersonate", "only FrostFS bearer tokens have this flag")

    def encode(self) -> bytes:
        writer = (
            Writer()
            .message(1, self.eacl_table.encode() if self.eacl_table else None)
            .message(2, self.owner_id.encode() if self.owner_id else None)
            .message(3, self.lifetime.encode() if self.lifetime else None)
        )
        if self.flavour is Flavour.NEOFS:
            writer.message(4, self.issuer.encode() if self.issuer else None)
        else:
            writer.boolean(4, self.allow_impersonate)
        return writer.getvalue()

    @classmethod
    def decode(cls, data: bytes, path: str, flavour: Flavour = Flavour.NEOFS) -> BearerBody:
        reader = Reader(data, path)
        table = reader.message(1, "eacl_table")
        owner = reader.message(2, "owner_id")
        lifetime = reader.message(3, "lifetime")
        field_4 = reader.wire_type(4)
        if field_4 == LEN:
            flavour = Flavour.NEOFS
        elif field_4 == VARINT:
            flavour = Flavour.FROSTFS
        elif field_4 is not None:
            raise WireError(f"{path}.issuer", "wrong wire type")
        issuer = reader.message(4, "issuer") if flavour is Flavour.NEOFS else None
        return cls(
            eacl_table=Table.decode(table, f"{path}.eacl_table") if table is not None else None,
            owner_id=OwnerID.decode(owner, f"{path}.owner_id") if owner is not None else None,
            lifetime=Lifetime.decode(lifetime, f"{path}.lifetime")
            if lifetime is not None
            else None,
            issuer=OwnerID.decode(issuer, f"{path}.issuer") if issuer is not None else None,
            allow_impersonate=(
                reader.boolean(4, "allow_impersonate") if flavour is Flavour.FROSTFS else False
            ),
            flavour=flavour,
        )

    def to_json(self) -> js.JSONObject:
        out: js.JSONObject = {
            "eaclTable": self.eacl_table.to_json() if self.eacl_table else None,
            "ownerID": self.owner_id.to_json() if self.owner_id else None,
            "lifetime": self.lifetime.to_json() if self.lifetime else None,
        }
        if self.flavour is Flavour.NEOFS:
            out["issuer"] = self.issuer.to_json() if self.issuer else None
        else:
            out["allowImpersonate"] = self.allow_impersonate
        return out

    @classmethod
    def from_json(cls, obj: object, path: str, flavour: Flavour = Flavour.NEOFS) -> BearerBody:
        if isinstance(obj, dict) and ("allowImpersonate" in obj or "allow_impersonate" in obj):
            flavour = Flavour.FROSTFS
        elif isinstance(obj, dict) and "issuer" in obj:
            flavour = Flavour.NEOFS
        table = js.message(obj, "eaclTable", "eacl_table", path)
        owner = js.message(obj, "ownerID", "owner_id", path)
        lifetime = js.message(obj, "lifetime", "lifetime", path)
        issuer = js.message(obj, "issuer", "issuer", path)
        return cls(
            eacl_table=Table.from_json(table, f"{path}.eaclTable") if table is not None else None,
            owner_id=OwnerID.from_json(owner, f"{path}.ownerID") if owner is not None else None,
            lifetime=Lifetime.from_json(lifetime, f"{path}.lifetime")
            if lifetime is not None
            else None,
            issuer=(
                OwnerID.from_json(issuer, f"{path}.issuer")
                if issuer is not None and flavour is Flavour.NEOFS
                else None
            ),
            allow_impersonate=js.parse_bool(
                js.field(obj, "allowImpersonate", "allow_impersonate", path),
                f"{path}.allowImpersonate",
            ),
            flavour=flavour,
        )


@dataclass(frozen=True, slots=True)
class BearerToken:
    """neo.fs.v2 acl.BearerToken."""

    body: BearerBody
    signature: Signature | None = None
    # The body's bytes as received or signed (its stable encoding), so checks need not re-encode.
    signed_data: bytes | None = field(default=None, compare=False, repr=False)

    def signed(self, signer: Signer, scheme: Scheme = Scheme.ECDSA_RFC6979_SHA256) -> BearerToken:
        data = self.body.encode()
        return BearerToken(self.body, sign_with(signer, data, scheme), data)

    def resolve_issuer(self) -> OwnerID | None:
        """The issuer field (NeoFS) or, when absent, the account of the signing key."""
        if self.body.issuer is not None:
            return self.body.issuer
        if self.signature is None:
            return None
        try:
            return OwnerID.from_public_key(self.signature.key)
        except WireError:
            return None

    def check(self) -> Check:
        data = self.signed_data if self.signed_data is not None else self.body.encode()
        return check_signature(data, self.signature, self.resolve_issuer())

    def encode(self) -> bytes:
        body = self.signed_data if self.signed_data is not None else self.body.encode()
        return (
            Writer()
            .message(1, body)
            .message(2, self.signature.encode() if self.signature else None)
            .getvalue()
        )

    @classmethod
    def decode(
        cls, data: bytes, path: str = "bearer_token", flavour: Flavour = Flavour.NEOFS
    ) -> BearerToken:
        reader = Reader(data, path)
        body = reader.message(1, "body")
        signature = reader.message(2, "signature")
        token = cls(
            BearerBody.decode(body or b"", f"{path}.body", flavour),
            Signature.decode(signature, f"{path}.signature") if signature is not None else None,
        )
        require_stable(data, token.encode(), path)
        return cls(token.body, token.signature, body)

    def to_json(self) -> js.JSONObject:
        return {
            "body": self.body.to_json(),
            "signature": self.signature.to_json() if self.signature else None,
        }

    @classmethod
    def from_json(
        cls, obj: object, path: str = "bearerToken", flavour: Flavour = Flavour.NEOFS
    ) -> BearerToken:
        body = js.message(obj, "body", "body", path)
        signature = js.message(obj, "signature", "signature", path)
        return cls(
            BearerBody.from_json(body or {}, f"{path}.body", flavour),
            Signature.from_json(signature, f"{path}.signature") if signature is not None else None,
        )

    @classmethod
    def from_json_text(cls, text: str | bytes, flavour: Flavour = Flavour.NEOFS) -> BearerToken:
        return cls.from_json(load_json(text, "bearerToken"), flavour=flavour)
