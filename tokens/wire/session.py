"""neo.fs.v2 session.SessionToken (v1): body, object and container contexts, verb rules."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from tokens.wire import jsonform as js
from tokens.wire.errors import WireError, build
from tokens.wire.ids import ContainerID, ObjectID, OwnerID, check_public_key
from tokens.wire.lifetime import Lifetime
from tokens.wire.protobuf import Reader, Writer
from tokens.wire.signature import Scheme, Signature, Signer, sign_with
from tokens.wire.token import Check, check_signature, load_json, require_stable

SESSION_ID_LENGTH = 16


class ObjectVerb(enum.IntEnum):
    """neo.fs.v2 session.ObjectSessionContext.Verb."""

    VERB_UNSPECIFIED = 0
    PUT = 1
    GET = 2
    HEAD = 3
    SEARCH = 4
    DELETE = 5
    RANGE = 6
    RANGEHASH = 7


class ContainerVerb(enum.IntEnum):
    """neo.fs.v2 session.ContainerSessionContext.Verb."""

    VERB_UNSPECIFIED = 0
    PUT = 1
    DELETE = 2
    SETEACL = 3
    SETATTRIBUTE = 4  # container.SetAttribute (current neo.fs.v2)
    REMOVEATTRIBUTE = 5  # container.RemoveAttribute


# Which token verbs authorise a request's verb, as neofs-node's object ACL applies them: a DELETE
# session may also PUT (tombstones), HEAD and SEARCH; GET and RANGE sessions may HEAD.
OBJECT_VERBS_ALLOWING: dict[ObjectVerb, frozenset[ObjectVerb]] = {
    ObjectVerb.PUT: frozenset({ObjectVerb.PUT, ObjectVerb.DELETE}),
    ObjectVerb.DELETE: frozenset({ObjectVerb.DELETE}),
    ObjectVerb.GET: frozenset({ObjectVerb.GET}),
    ObjectVerb.HEAD: frozenset(
        {ObjectVerb.HEAD, ObjectVerb.GET, ObjectVerb.DELETE, ObjectVerb.RANGE, ObjectVerb.RANGEHASH}
    ),
    ObjectVerb.SEARCH: frozenset({ObjectVerb.SEARCH, ObjectVerb.DELETE}),
    ObjectVerb.RANGE: frozenset({ObjectVerb.RANGE, ObjectVerb.RANGEHASH}),
    ObjectVerb.RANGEHASH: frozenset({ObjectVerb.RANGEHASH}),
}


class ContextMismatch(enum.Enum):
    VERB = "verb_not_allowed"
    CONTAINER = "wrong_container"
    OBJECT = "object_not_in_session"
    CONTEXT = "wrong_context"


@dataclass(frozen=True, slots=True)
class ObjectContext:
    """neo.fs.v2 session.ObjectSessionContext (target form)."""

    verb: ObjectVerb | int
    container: ContainerID | None
    objects: tuple[ObjectID, ...] = ()

    def check(
        self, verb: ObjectVerb, container: ContainerID, obj: ObjectID | None
    ) -> ContextMismatch | None:
        if self.verb not in OBJECT_VERBS_ALLOWING.get(verb, frozenset()):
            return ContextMismatch.VERB
        if self.container != container:
            return ContextMismatch.CONTAINER
        if self.objects and (obj is None or obj not in self.objects):
            return ContextMismatch.OBJECT
        return None

    def encode(self) -> bytes:
        target = Writer().message(1, self.container.encode() if self.container else None)
        for obj in self.objects:
            target.message(2, obj.encode())
        return Writer().enum(1, self.verb).message(2, target.getvalue()).getvalue()

    @classmethod
    def decode(cls, data: bytes, path: str) -> ObjectContext:
        reader = Reader(data, path)
        verb = js.open_enum(ObjectVerb, reader.enum(1, "verb"))
        target_raw = reader.message(2, "target")
        container: ContainerID | None = None
        objects: tuple[ObjectID, ...] = ()
        if target_raw is not None:
            target = Reader(target_raw, f"{path}.target")
            cid = target.message(1, "container")
            container = (
                ContainerID.decode(cid, f"{path}.target.container") if cid is not None else None
            )
            objects = tuple(
                ObjectID.decode(raw, f"{path}.target.objects[{i}]")
                for i, raw in enumerate(target.repeated_messages(2, "objects"))
            )
        return cls(verb, container, objects)

    def to_json(self) -> js.JSONObject:
        return {
            "verb": js.enum_json(self.verb),
            "target": {
                "container": self.container.to_json() if self.container else None,
                "objects": [o.to_json() for o in self.objects],
            },
        }

    @classmethod
    def from_json(cls, obj: object, path: str) -> ObjectContext:
        verb = js.parse_enum(ObjectVerb, js.field(obj, "verb", "verb", path), f"{path}.verb")
        target = js.message(obj, "target", "target", path) or {}
        cid = js.message(target, "container", "container", f"{path}.target")
        return cls(
            verb,
            ContainerID.from_json(cid, f"{path}.target.container") if cid is not None else None,
            tuple(
                ObjectID.from_json(o, f"{path}.target.objects[{i}]")
                for i, o in enumerate(js.array(target, "objects", "objects", f"{path}.target"))
            ),
        )


@dataclass(frozen=True, slots=True)
class ContainerContext:
    """neo.fs.v2 session.ContainerSessionContext."""

    verb: ContainerVerb | int
    wildcard: bool = False
    container_id: ContainerID | None = None

    def check(self, verb: ContainerVerb, container: ContainerID | None) -> ContextMismatch | None:
        if self.verb != verb:
            return ContextMismatch.VERB
        if not self.wildcard and self.container_id != container:
            return ContextMismatch.CONTAINER
        return None

    def encode(self) -> bytes:
        return (
            Writer()
            .enum(1, self.verb)
            .boolean(2, self.wildcard)
            .message(3, self.container_id.encode() if self.container_id else None)
            .getvalue()
        )

    @classmethod
    def decode(cls, data: bytes, path: str) -> ContainerContext:
        reader = Reader(data, path)
        cid = reader.message(3, "container_id")
        return cls(
            verb=js.open_enum(ContainerVerb, reader.enum(1, "verb")),
            wildcard=reader.boolean(2, "wildcard"),
            container_id=ContainerID.decode(cid, f"{path}.container_id")
            if cid is not None
            else None,
        )

    def to_json(self) -> js.JSONObject:
        return {
            "verb": js.enum_json(self.verb),
            "wildcard": self.wildcard,
            "containerID": self.container_id.to_json() if self.container_id else None,
        }

    @classmethod
    def from_json(cls, obj: object, path: str) -> ContainerContext:
        cid = js.message(obj, "containerID", "container_id", path)
        return cls(
            verb=js.parse_enum(ContainerVerb, js.field(obj, "verb", "verb", path), f"{path}.verb"),
            wildcard=js.parse_bool(js.field(obj, "wildcard", "wildcard", path), f"{path}.wildcard"),
            container_id=ContainerID.from_json(cid, f"{path}.containerID")
            if cid is not None
            else None,
        )


@dataclass(frozen=True, slots=True)
class SessionBody:
    """neo.fs.v2 session.SessionToken.Body."""

    id: bytes = b""
    owner_id: OwnerID | None = None
    lifetime: Lifetime | None = None
    session_key: bytes = b""
    context: ObjectContext | ContainerContext | None = None

    def __post_init__(self) -> None:
        if self.id and len(self.id) != SESSION_ID_LENGTH:
            raise WireError("id", f"must be {SESSION_ID_LENGTH} bytes (a UUID)")
        if self.session_key:
            check_public_key(self.session_key, "session_key")

    def encode(self) -> bytes:
        writer = (
            Writer()
            .bytes_(1, self.id)
            .message(2, self.owner_id.encode() if self.owner_id else None)
            .message(3, self.lifetime.encode() if self.lifetime else None)
            .bytes_(4, self.session_key)
        )
        if isinstance(self.context, ObjectContext):
            writer.message(5, self.context.encode())
        elif isinstance(self.context, ContainerContext):
            writer.message(6, self.context.encode())
        return writer.getvalue()

    @classmethod
    def decode(cls, data: bytes, path: str) -> SessionBody:
        reader = Reader(data, path)
        owner = reader.message(2, "owner_id")
        lifetime = reader.message(3, "lifetime")
        obj, cnr = reader.message(5, "object"), reader.message(6, "container")
        if obj is not None and cnr is not None:
            raise WireError(path, "both object and container contexts are set")
        context: ObjectContext | ContainerContext | None = None
        if obj is not None:
            context = ObjectContext.decode(obj, f"{path}.object")
        elif cnr is not None:
            context = ContainerContext.decode(cnr, f"{path}.container")
        return build(
            cls,
            path,
            id=reader.bytes_(1, "id"),
            owner_id=OwnerID.decode(owner, f"{path}.owner_id") if owner is not None else None,
            lifetime=Lifetime.decode(lifetime, f"{path}.lifetime")
            if lifetime is not None
            else None,
            session_key=reader.bytes_(4, "session_key"),
            context=context,
        )

    def to_json(self) -> js.JSONObject:
        out: js.JSONObject = {
            "id": js.b64(self.id),
            "ownerID": self.owner_id.to_json() if self.owner_id else None,
            "lifetime": self.lifetime.to_json() if self.lifetime else None,
            "sessionKey": js.b64(self.session_key),
        }
        if isinstance(self.context, ObjectContext):  # protojson writes only the set oneof member
            out["object"] = self.context.to_json()
        elif isinstance(self.context, ContainerContext):
            out["container"] = self.context.to_json()
        return out

    @classmethod
    def from_json(cls, obj: object, path: str) -> SessionBody:
        owner = js.message(obj, "ownerID", "owner_id", path)
        lifetime = js.message(obj, "lifetime", "lifetime", path)
        object_ctx = js.message(obj, "object", "object", path)
        container_ctx = js.message(obj, "container", "container", path)
        if object_ctx is not None and container_ctx is not None:
            raise WireError(path, "both object and container contexts are set")
        context: ObjectContext | ContainerContext | None = None
        if object_ctx is not None:
            context = ObjectContext.from_json(object_ctx, f"{path}.object")
        elif container_ctx is not None:
            context = ContainerContext.from_json(container_ctx, f"{path}.container")
        return build(
            cls,
            path,
            id=js.parse_bytes(js.field(obj, "id", "id", path), f"{path}.id"),
            owner_id=OwnerID.from_json(owner, f"{path}.ownerID") if owner is not None else None,
            lifetime=Lifetime.from_json(lifetime, f"{path}.lifetime")
            if lifetime is not None
            else None,
            session_key=js.parse_bytes(
                js.field(obj, "sessionKey", "session_key", path), f"{path}.sessionKey"
            ),
            context=context,
        )


@dataclass(frozen=True, slots=True)
class SessionToken:
    """neo.fs.v2 session.SessionToken: a body and the issuer's signature over its encoding."""

    body: SessionBody
    signature: Signature | None = None
    # The body's bytes as received or signed (its stable encoding), so checks need not re-encode.
    signed_data: bytes | None = field(default=None, compare=False, repr=False)

    def signed(self, signer: Signer, scheme: Scheme = Scheme.ECDSA_RFC6979_SHA256) -> SessionToken:
        data = self.body.encode()
        return SessionToken(self.body, sign_with(signer, data, scheme), data)

    def check(self) -> Check:
        data = self.signed_data if self.signed_data is not None else self.body.encode()
        return check_signature(data, self.signature, self.body.owner_id)

    def encode(self) -> bytes:
        body = self.signed_data if self.signed_data is not None else self.body.encode()
        return (
            Writer()
            .message(1, body)
            .message(2, self.signature.encode() if self.signature else None)
            .getvalue()
        )

    @classmethod
    def decode(cls, data: bytes, path: str = "session_token") -> SessionToken:
        reader = Reader(data, path)
        body = reader.message(1, "body")
        signature = reader.message(2, "signature")
        token = cls(
            SessionBody.decode(body or b"", f"{path}.body"),
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
    def from_json(cls, obj: object, path: str = "sessionToken") -> SessionToken:
        body = js.message(obj, "body", "body", path)
        signature = js.message(obj, "signature", "signature", path)
        return cls(
            SessionBody.from_json(body or {}, f"{path}.body"),
            Signature.from_json(signature, f"{path}.signature") if signature is not None else None,
        )

    @classmethod
    def from_json_text(cls, text: str | bytes) -> SessionToken:
        return cls.from_json(load_json(text, "sessionToken"))
