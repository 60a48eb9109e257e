"""hypothesis strategies for arbitrary valid tokens and eACL tables."""

from __future__ import annotations

from hypothesis import strategies as st

from tokens.wire import eacl
from tokens.wire.bearer import BearerBody, BearerToken, Flavour
from tokens.wire.ids import ContainerID, ObjectID, OwnerID
from tokens.wire.lifetime import Lifetime
from tokens.wire.session import (
    ContainerContext,
    ContainerVerb,
    ObjectContext,
    ObjectVerb,
    SessionBody,
    SessionToken,
)
from tokens.wire.signature import Scheme, SoftwareSigner

SIGNERS = [SoftwareSigner() for _ in range(3)]

uint64 = st.integers(min_value=0, max_value=2**64 - 1)
container_ids = st.binary(min_size=32, max_size=32).map(ContainerID)
object_ids = st.binary(min_size=32, max_size=32).map(ObjectID)
public_keys = st.sampled_from([s.public_key() for s in SIGNERS])
owner_ids = public_keys.map(OwnerID.from_public_key)
lifetimes = st.builds(Lifetime, exp=uint64, nbf=uint64, iat=uint64)
text = st.text(max_size=20)


def _enum(kind):  # named members, plus an occasional unnamed number (open enums)
    return st.one_of(st.sampled_from(list(kind)), st.integers(min_value=8, max_value=2**31 - 1))


@st.composite
def _filters(draw):
    match = draw(_enum(eacl.MatchType))
    # NUM_* filters need a base-10 value (any size, signed); drawn, so a failure replays exactly.
    numeric = match in eacl.NUMERIC_MATCHES
    value = str(draw(st.integers())) if numeric else draw(text)
    return eacl.Filter(draw(_enum(eacl.HeaderType)), match, draw(text), value)


filters = _filters()
targets = st.builds(
    eacl.Target,
    role=_enum(eacl.Role),
    keys=st.lists(st.one_of(public_keys, owner_ids.map(lambda o: o.value)), max_size=3).map(tuple),
)
records = st.builds(
    eacl.Record,
    operation=_enum(eacl.Operation),
    action=_enum(eacl.Action),
    filters=st.lists(filters, max_size=3).map(tuple),
    targets=st.lists(targets, max_size=3).map(tuple),
)
tables = st.builds(
    eacl.Table,
    container_id=st.one_of(st.none(), container_ids),
    records=st.lists(records, max_size=4).map(tuple),
    version=st.builds(
        eacl.Version,
        major=st.integers(min_value=0, max_value=2**32 - 1),
        minor=st.integers(min_value=0, max_value=2**32 - 1),
    ),
)
object_contexts = st.builds(
    ObjectContext,
    verb=_enum(ObjectVerb),
    container=st.one_of(st.none(), container_ids),
    objects=st.lists(object_ids, max_size=3).map(tuple),
)
container_contexts = st.builds(
    ContainerContext,
    verb=_enum(ContainerVerb),
    wildcard=st.booleans(),
    container_id=st.one_of(st.none(), container_ids),
)
session_bodies = st.builds(
    SessionBody,
    id=st.one_of(st.just(b""), st.binary(min_size=16, max_size=16)),
    owner_id=st.one_of(st.none(), owner_ids),
    lifetime=st.one_of(st.none(), lifetimes),
    session_key=st.one_of(st.just(b""), public_keys),
    context=st.one_of(st.none(), object_contexts, container_contexts),
)


@st.composite
def bearer_bodies(draw, flavours=tuple(Flavour)):
    flavour = draw(st.sampled_from(flavours))
    return BearerBody(
        eacl_table=draw(st.one_of(st.none(), tables)),
        owner_id=draw(st.one_of(st.none(), owner_ids)),
        lifetime=draw(st.one_of(st.none(), lifetimes)),
        issuer=draw(st.one_of(st.none(), owner_ids)) if flavour is Flavour.NEOFS else None,
        allow_impersonate=draw(st.booleans()) if flavour is Flavour.FROSTFS else False,
        flavour=flavour,
    )


@st.composite
def signed_session_tokens(draw):
    signer = draw(st.sampled_from(SIGNERS))
    body = draw(session_bodies)
    body = SessionBody(
        id=body.id,
        owner_id=OwnerID.from_public_key(signer.public_key()),
        lifetime=body.lifetime,
        session_key=body.session_key,
        context=body.context,
    )
    scheme = draw(st.sampled_from([Scheme.ECDSA_SHA512, Scheme.ECDSA_RFC6979_SHA256]))
    return SessionToken(body).signed(signer, scheme)


@st.composite
def signed_bearer_tokens(draw, flavours=tuple(Flavour)):
    signer = draw(st.sampled_from(SIGNERS))
    body = draw(bearer_bodies(flavours))
    if body.flavour is Flavour.NEOFS:
        body = BearerBody(
            eacl_table=body.eacl_table,
            owner_id=body.owner_id,
            lifetime=body.lifetime,
            issuer=OwnerID.from_public_key(signer.public_key()),
        )
    return BearerToken(body).signed(signer)
