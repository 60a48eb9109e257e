"""Token lifetimes in NeoFS epochs; all bounds are inclusive (`nbf ≤ N`, `iat ≤ N`, `N ≤ exp`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tokens.wire import jsonform as js
from tokens.wire.protobuf import Reader, Writer


class Validity(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


@dataclass(frozen=True, slots=True)
class Lifetime:
    """neo.fs.v2 session.SessionToken.Body.TokenLifetime and acl.BearerToken.Body.TokenLifetime."""

    exp: int = 0
    nbf: int = 0
    iat: int = 0

    def validity_at(self, epoch: int) -> Validity:
        if epoch > self.exp:
            return Validity.EXPIRED
        if epoch < self.nbf or epoch < self.iat:
            return Validity.NOT_YET_VALID
        return Validity.VALID

    def valid_at(self, epoch: int) -> bool:
        return self.validity_at(epoch) is Validity.VALID

    def encode(self) -> bytes:
        return Writer().uint(1, self.exp).uint(2, self.nbf).uint(3, self.iat).getvalue()

    @classmethod
    def decode(cls, data: bytes, path: str) -> Lifetime:
        reader = Reader(data, path)
        return cls(reader.uint(1, "exp"), reader.uint(2, "nbf"), reader.uint(3, "iat"))

    def to_json(self) -> js.JSONObject:
        return {"exp": str(self.exp), "nbf": str(self.nbf), "iat": str(self.iat)}

    @classmethod
    def from_json(cls, obj: object, path: str) -> Lifetime:
        return cls(
            *(
                js.parse_uint(js.field(obj, name, name, path), f"{path}.{name}")
                for name in ("exp", "nbf", "iat")
            )
        )
