"""The decision point, a table of decisions as a NeoFS storage node would take them.

Every case names the neofs-node (or neofs-sdk-go) source it follows, as `follows`: the node's
object service handlers (`pkg/services/object/server.go`) call, in this order,
`acl/v2/service.go` `findRequestInfo` (who asks, the bearer token against the request, the
role by `acl/v2/classifier.go` `classify`), `acl/acl.go` `Checker.CheckBasicACL` (and
`StickyBitCheck` for PUT), then `Checker.CheckEACL` (skipped under the F bit; the bearer's table
only under the B bit). The expected answers are written out by hand from the presets' meaning,
not computed with the code under test.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
from django.utils import timezone

from authority.epoch import current_epoch
from authority.models import Container, Role
from authority.principals import Principal
from authority.services.containers import container_update
from authority.services.eacl_tables import eacl_table_create
from hsm.models import KeyPurpose
from hsm.services import key_active_or_generate, key_sign
from hsm.signer import HSMSigner
from tests.factories import ContainerFactory
from tokens.models import SessionContext, SessionKind
from tokens.services.access_tokens import access_token_sign, key_kid
from tokens.services.introspection import token_revoke
from tokens.services.sessions import SessionRequest, session_cancel, session_issue
from tokens.services.trade import access_token_trade
from tokens.services.verify import Decision, Operation, request_verify
from tokens.wire import basic_acl
from tokens.wire import eacl as wire
from tokens.wire.bearer import BearerBody, BearerToken
from tokens.wire.eacl_rules import parse_rules
from tokens.wire.ids import ContainerID, OwnerID
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

pytestmark = pytest.mark.django_db

STRANGER = SoftwareSigner()
PARTY = SoftwareSigner()  # a trusted party holding a session key

CHECK_BASIC = "pkg/services/object/acl/acl.go Checker.CheckBasicACL"
CLASSIFY = "pkg/services/object/acl/v2/classifier.go senderClassifier.classify"
CHECK_EACL = "pkg/services/object/acl/acl.go Checker.CheckEACL"
STICKY = "pkg/services/object/acl/acl.go Checker.StickyBitCheck"
CREDENTIALS = "pkg/services/object/acl/v2/service.go getCredentialsFromSessionV1Token"
TARGETS = "neofs-sdk-go eacl/validator.go targetMatches"

# What others may do under each preset (neofs-sdk-go container/acl/acl_basic.go constants); the
# owner may do all four under every preset. The eacl- twin of each preset differs by the F bit.
OTHERS_MAY = {
    "private": set(),
    "eacl-private": set(),
    "public-read": {"GET", "SEARCH"},
    "eacl-public-read": {"GET", "SEARCH"},
    "public-read-write": {"GET", "PUT", "DELETE", "SEARCH"},
    "eacl-public-read-write": {"GET", "PUT", "DELETE", "SEARCH"},
    "public-append": {"GET", "PUT", "SEARCH"},
    "eacl-public-append": {"GET", "PUT", "SEARCH"},
}


@dataclass
class World:
    owner: Any
    owner_signer: HSMSigner
    actor: Principal
    made: dict[str, Any] = field(default_factory=dict)

    def container(self, bits: int | None, rules: str | None = None) -> Container:
        container = ContainerFactory(owner=self.owner, basic_acl=bits)
        if rules:
            table = eacl_table_create(
                actor=self.actor, owner=self.owner, name=f"t-{container.pk}", container=container,
                table=wire.Table(container_id=None, records=parse_rules(rules)),
            )  # fmt: skip
            container_update(actor=self.actor, container=container, changes={"eacl_table": table})
            container.refresh_from_db()
        return Container.objects.select_related("owner", "eacl_table").get(pk=container.pk)

    def bearer(self, container: Container, rules: str) -> BearerToken:
        epoch = current_epoch()
        body = BearerBody(
            eacl_table=wire.Table(ContainerID(bytes(container.cid)), parse_rules(rules)),
            owner_id=None,
            lifetime=Lifetime(exp=epoch + 5, nbf=epoch, iat=epoch),
            issuer=OwnerID.from_string(self.owner.neofs_owner_id),
        )
        return BearerToken(body).signed(self.owner_signer)

    def session(self, container: Container, context: Any = None) -> SessionToken:
        epoch = current_epoch()
        body = SessionBody(
            id=os.urandom(16),
            owner_id=OwnerID.from_string(self.owner.neofs_owner_id),
            lifetime=Lifetime(exp=epoch + 5, nbf=epoch, iat=epoch),
            session_key=PARTY.public_key(),
            context=context or ObjectContext(ObjectVerb.GET, ContainerID(bytes(container.cid))),
        )
        return SessionToken(body).signed(self.owner_signer)


@pytest.fixture
def w(acme, member) -> World:
    return World(
        owner=acme,
        owner_signer=HSMSigner(acme.keys.get(purpose=KeyPurpose.OWNER_SIGNING)),
        actor=Principal(user=member(acme, Role.ADMIN)),
    )


def _decide(container: Container, verb: str, **kwargs: Any) -> Decision:
    return request_verify(Operation(container=container, object_verb=ObjectVerb[verb], **kwargs))


# ---------------------------------------------------------------------------------------------
# Basic ACL: each preset × each role × GET/PUT/DELETE/SEARCH, no tokens attached (64 cases).
# follows: CLASSIFY (the owner's key is USER, any other OTHERS), then CHECK_BASIC.

BASIC_CASES = [
    (preset, role, verb)
    for preset in OTHERS_MAY
    for role in ("owner", "others")
    for verb in ("GET", "PUT", "DELETE", "SEARCH")
]


@pytest.mark.parametrize(("preset", "role", "verb"), BASIC_CASES)
def test_basic_acl_preset_role_operation(w, preset, role, verb):
    # follows: pkg/services/object/acl/v2/classifier.go senderClassifier.classify, then
    # pkg/services/object/acl/acl.go Checker.CheckBasicACL (neofs-sdk-go Basic.IsOpAllowed)
    container = w.container(basic_acl.PRESETS[preset])
    key = w.owner_signer.public_key() if role == "owner" else STRANGER.public_key()
    decision = _decide(container, verb, requester_key=key)
    expected = role == "owner" or verb in OTHERS_MAY[preset]
    assert decision.allow is expected
    assert decision.reason == ("allowed" if expected else "basic_acl_deny")


# ---------------------------------------------------------------------------------------------
# B, F, sticky, and a container without a recorded basic ACL.

EACL_RW = basic_acl.PRESETS["eacl-public-read-write"]  # F clear, B set for every operation
NO_BEARER_GET = EACL_RW & ~0x1  # the B bit of GET cleared
STICKY_RW = EACL_RW | 1 << 29


@dataclass(frozen=True)
class Case:
    name: str
    follows: str
    bits: int | None
    verb: str
    allow: bool
    reason: str
    stored: str | None = None  # the container's eACL table (rules)
    bearer: str | None = None  # a bearer token's table (rules)
    object_owner: str | None = None  # "stranger", "owner"
    key: str = "stranger"


BIT_CASES = [
    Case("F clear: the stored eACL denies others", CHECK_EACL, EACL_RW, "GET", False,
         "eacl_deny", stored="deny get others"),
    Case("F set: the stored eACL is not consulted", CHECK_EACL,
         basic_acl.PRESETS["public-read-write"], "GET", True, "allowed",
         stored="deny get others"),
    Case("F set: nor is a bearer token's table", CHECK_EACL,
         basic_acl.PRESETS["public-read-write"], "GET", True, "allowed", bearer="deny get others"),
    Case("B set: the bearer's table replaces the stored one", CHECK_EACL, EACL_RW, "GET", True,
         "allowed", stored="deny get others", bearer="allow get others"),
    Case("B set: the bearer's table denies", CHECK_EACL, EACL_RW, "GET", False, "eacl_deny",
         bearer="deny get others"),
    Case("B clear: the bearer's table is dropped, the stored one decides", CHECK_EACL,
         NO_BEARER_GET, "GET", False, "eacl_deny", stored="deny get others",
         bearer="allow get others"),
    Case("B clear: a bearer's deny is dropped too", CHECK_EACL, NO_BEARER_GET, "GET", True,
         "allowed", bearer="deny get others"),
    Case("B clear for GET only: PUT still takes the bearer's table", CHECK_EACL, NO_BEARER_GET,
         "PUT", False, "eacl_deny", bearer="deny put others"),
    Case("the eACL cannot allow what the basic ACL denies", CHECK_BASIC,
         basic_acl.PRESETS["eacl-private"], "GET", False, "basic_acl_deny",
         stored="allow get others"),
    Case("no eACL record matches: the basic ACL's allow stands", CHECK_EACL, EACL_RW, "GET",
         True, "allowed", stored="deny put others"),
    Case("the owner is USER to the eACL", CHECK_EACL, EACL_RW, "GET", False, "eacl_deny",
         stored="deny get user", key="owner"),
    Case("sticky: a stranger puts its own object", STICKY, STICKY_RW, "PUT", True, "allowed",
         object_owner="stranger"),
    Case("sticky: a stranger puts an object of the owner", STICKY, STICKY_RW, "PUT", False,
         "sticky_bit_deny", object_owner="owner"),
    Case("sticky: a PUT naming no owner", STICKY, STICKY_RW, "PUT", False, "sticky_bit_deny"),
    Case("sticky: the owner puts its own object", STICKY, STICKY_RW, "PUT", True, "allowed",
         object_owner="owner", key="owner"),
    Case("sticky: GET is not a put", STICKY, STICKY_RW, "GET", True, "allowed"),
    Case("sticky clear: anyone's object", STICKY, EACL_RW, "PUT", True, "allowed",
         object_owner="owner"),
    Case("no basic ACL recorded: the eACL alone", CHECK_EACL, None, "GET", False, "eacl_deny",
         stored="deny get others"),
]  # fmt: skip


@pytest.mark.parametrize("case", BIT_CASES, ids=lambda case: case.name)
def test_bits(w, case):
    # follows: case.follows (pkg/services/object/acl/acl.go Checker.CheckBasicACL,
    # Checker.StickyBitCheck, Checker.CheckEACL; neofs-sdk-go container/acl Basic.Extendable,
    # Basic.AllowedBearerRules, Basic.Sticky)
    container = w.container(case.bits, case.stored)
    keys = {"owner": w.owner_signer.public_key(), "stranger": STRANGER.public_key()}
    owners = {name: OwnerID.from_public_key(key) for name, key in keys.items()}
    bearer = w.bearer(container, case.bearer) if case.bearer else None
    decision = _decide(
        container, case.verb, requester_key=keys[case.key], bearer_token=bearer,
        object_owner=owners[case.object_owner] if case.object_owner else None,
    )  # fmt: skip
    assert (decision.allow, decision.reason) == (case.allow, case.reason)


# ---------------------------------------------------------------------------------------------
# Session-issuer key targets: with a session token the request's author is the token's issuer
# and its key the key that signed the token, not the session key the request is signed with.


@pytest.mark.parametrize(
    ("rules", "allow", "reason"),
    [
        # follows: CREDENTIALS (sender key = the token's signing key) + TARGETS (33-byte keys)
        ("deny get pubkey:{owner_key}", False, "eacl_deny"),
        # follows: CREDENTIALS + TARGETS: the session key is not the sender's key
        ("deny get pubkey:{party_key}", True, "allowed"),
        # follows: CREDENTIALS (account = token.Issuer()) + TARGETS (25-byte accounts)
        ("deny get address:{owner_account}", False, "eacl_deny"),
        # follows: CREDENTIALS + TARGETS: the session key's account is not the sender's
        ("deny get address:{party_account}", True, "allowed"),
        # follows: CLASSIFY: the issuer (the owner) is USER, whoever holds the session key
        ("deny get user", False, "eacl_deny"),
        # follows: CLASSIFY: … and so not OTHERS
        ("deny get others", True, "allowed"),
    ],
)
def test_session_issuer_key_targets(w, rules, allow, reason):
    # follows: pkg/services/object/acl/v2/service.go getRequestCredentials,
    # getCredentialsFromSessionV1Token; neofs-sdk-go eacl/validator.go targetMatches
    facts = {
        "owner_key": w.owner_signer.public_key().hex(),
        "party_key": PARTY.public_key().hex(),
        "owner_account": w.owner.neofs_owner_id,
        "party_account": str(OwnerID.from_public_key(PARTY.public_key())),
    }
    container = w.container(EACL_RW, rules.format(**facts))
    decision = _decide(
        container, "GET", session_token=w.session(container), requester_key=PARTY.public_key()
    )
    assert (decision.allow, decision.reason) == (allow, reason)


def test_without_a_session_the_requester_key_is_the_sender(w):
    # follows: pkg/services/object/acl/v2/service.go getRequestCredentials (the request's own
    # verification header) + neofs-sdk-go eacl/validator.go targetMatches
    container = w.container(EACL_RW, f"deny get pubkey:{PARTY.public_key().hex()}")
    assert _decide(container, "GET", requester_key=PARTY.public_key()).reason == "eacl_deny"


def test_a_target_with_keys_matches_by_keys_only(w):
    # follows: neofs-sdk-go eacl/validator.go targetMatches (keys listed: the role is not checked)
    container = w.container(EACL_RW)
    target = wire.Target(wire.Role.OTHERS, (PARTY.public_key(),))
    table = wire.Table(None, (wire.Record(wire.Operation.GET, wire.Action.DENY, (), (target,)),))
    epoch = current_epoch()
    bearer = BearerToken(
        BearerBody(
            eacl_table=table, owner_id=None, lifetime=Lifetime(exp=epoch + 5, nbf=epoch, iat=epoch),
            issuer=OwnerID.from_string(w.owner.neofs_owner_id),
        )
    ).signed(w.owner_signer)  # fmt: skip
    assert _decide(container, "GET", requester_key=STRANGER.public_key(), bearer_token=bearer).allow
    denied = _decide(container, "GET", requester_key=PARTY.public_key(), bearer_token=bearer)
    assert denied.reason == "eacl_deny"


@pytest.mark.parametrize(
    ("token_verb", "asked", "reason"),
    [
        # follows: neo.fs.v2 session.ContainerSessionContext.Verb SETATTRIBUTE/REMOVEATTRIBUTE;
        # pkg/services/container verification of a session's verb against the request's
        (ContainerVerb.SETATTRIBUTE, ContainerVerb.SETATTRIBUTE, "allowed"),
        (ContainerVerb.REMOVEATTRIBUTE, ContainerVerb.REMOVEATTRIBUTE, "allowed"),
        (ContainerVerb.SETATTRIBUTE, ContainerVerb.REMOVEATTRIBUTE, "verb_not_allowed"),
    ],
)
def test_container_attribute_verbs(w, token_verb, asked, reason):
    container = w.container(None)
    token = w.session(
        container, ContainerContext(token_verb, container_id=ContainerID(bytes(container.cid)))
    )
    decision = request_verify(
        Operation(
            container=container, container_verb=asked, session_token=token,
            requester_key=PARTY.public_key(),
        )
    )  # fmt: skip
    assert decision.reason == reason


# ---------------------------------------------------------------------------------------------
# Access tokens, judged as a resource server judges them (RFC 9068 §4), then applied. A session
# of the owner stands for the owner: USER to the basic ACL (follows: CLASSIFY, as a session's
# issuer is the request's author in CREDENTIALS).


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hsm_jwt(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A JWT signed by the authority's own access-token key, with whatever header is given."""
    key = key_active_or_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    header = {"kid": key_kid(key), **header}
    signing_input = ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims))
    signature = key_sign(key=key, data=signing_input.encode(), scheme=Scheme.ECDSA_RFC6979_SHA256)
    return f"{signing_input}.{_b64url(signature)}"


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@pytest.fixture
def access(w):
    """A private container of the owner, a GET session on it, and a traded access token."""
    container = w.container(basic_acl.PRESETS["private"])
    issued = session_issue(
        actor=w.actor, owner=w.owner,
        request=SessionRequest(kind=SessionKind.DELEGATION, context=SessionContext.OBJECT,
                               verbs=("GET", "HEAD"), renewer=w.actor, container=container),
    )  # fmt: skip
    token = access_token_trade(subject_token=issued.delegation_token).access_token
    return {"container": container, "session": issued.session, "token": token}


def _forged(access, mutate) -> str:
    header, claims = {"alg": "ES256", "typ": "at+jwt"}, _claims(access["token"])
    mutate(header, claims)
    return _hsm_jwt(header, claims)


def _foreign_key_jwt(access) -> str:
    """Signed by a P-256 key that is not ours, under our key's kid."""
    key = key_active_or_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    header = {"alg": "ES256", "typ": "at+jwt", "kid": key_kid(key)}
    signing_input = ".".join(
        _b64url(json.dumps(part).encode()) for part in (header, _claims(access["token"]))
    )
    r, s = decode_dss_signature(
        ec.generate_private_key(ec.SECP256R1()).sign(signing_input.encode(), ec.ECDSA(SHA256()))
    )
    return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _hs256_jwt(access) -> str:
    """`alg` HS256 keyed with our public key: the algorithm-confusion forgery."""
    key = key_active_or_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key_kid(key)}
    signing_input = ".".join(
        _b64url(json.dumps(part).encode()) for part in (header, _claims(access["token"]))
    )
    mac = hmac.new(bytes(key.public_key), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(mac)}"


def _expired(access) -> str:
    now = timezone.now()
    token, _ = access_token_sign(
        session=access["session"], verbs=["GET"], audience="neofs",
        now=now - dt.timedelta(hours=1), expires_at=now - dt.timedelta(minutes=1),
    )  # fmt: skip
    return token


ACCESS_CASES = [
    # (name, build the token, verb, container: "own"/"other", allow, reason)
    ("valid", lambda a: a["token"], "GET", "own", True, "allowed"),
    ("valid for HEAD too", lambda a: a["token"], "HEAD", "own", True, "allowed"),
    ("wrong scope", lambda a: a["token"], "PUT", "own", False, "verb_not_allowed"),
    ("wrong container", lambda a: a["token"], "GET", "other", False, "wrong_container"),
    ("expired", _expired, "GET", "own", False, "expired"),
    ("not yet valid", lambda a: _forged(a, lambda h, c: c.update(nbf=c["nbf"] + 3600)), "GET",
     "own", False, "not_yet_valid"),
    ("wrong typ", lambda a: _forged(a, lambda h, c: h.update(typ="JWT")), "GET", "own", False,
     "bad_access_token"),
    ("no typ", lambda a: _forged(a, lambda h, c: h.pop("typ")), "GET", "own", False,
     "bad_access_token"),
    ("wrong iss", lambda a: _forged(a, lambda h, c: c.update(iss="someone-else")), "GET", "own",
     False, "bad_access_token"),
    ("wrong aud", lambda a: _forged(a, lambda h, c: c.update(aud="elsewhere")), "GET", "own",
     False, "bad_access_token"),
    ("alg HS256 keyed with the public key", _hs256_jwt, "GET", "own", False, "bad_access_token"),
    ("alg none", lambda a: _b64url(b'{"alg":"none","typ":"at+jwt"}') + "."
     + a["token"].split(".")[1] + ".", "GET", "own", False, "bad_access_token"),
    ("foreign key", _foreign_key_jwt, "GET", "own", False, "bad_access_token"),
    ("a changed claim", lambda a: ".".join([
        a["token"].split(".")[0],
        _b64url(json.dumps({**_claims(a["token"]), "scope": "GET PUT"}).encode()),
        a["token"].split(".")[2]]), "PUT", "own", False, "bad_access_token"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "verb", "where", "allow", "reason"),
    [case[1:] for case in ACCESS_CASES],
    ids=[case[0] for case in ACCESS_CASES],
)
def test_access_tokens(w, access, build, verb, where, allow, reason):
    # follows: RFC 9068 §4 (typ, iss, aud, exp/nbf, alg); then as a session's issuer is the
    # request's author (pkg/services/object/acl/v2/service.go getRequestCredentials) the owner
    # is USER (classifier.go classify) and the private preset lets it in (acl.go CheckBasicACL)
    container = access["container"] if where == "own" else w.container(None)
    decision = _decide(container, verb, access_token=build(access))
    assert (decision.allow, decision.reason) == (allow, reason)


def test_a_revoked_access_token_is_refused(w, access):
    # follows: SPEC flow 7 (revocation); RFC 7009 — the deny-list is read on every decision
    assert _decide(access["container"], "GET", access_token=access["token"]).allow
    token_revoke(actor=w.actor, token=access["token"])
    decision = _decide(access["container"], "GET", access_token=access["token"])
    assert (decision.allow, decision.reason) == (False, "revoked")


def test_an_access_token_of_a_cancelled_session_is_refused(w, access):
    # follows: SPEC flow 5 (cancel stops its access tokens at once), read from the database
    session_cancel(actor=w.actor, session=access["session"])
    decision = _decide(access["container"], "GET", access_token=access["token"])
    assert (decision.allow, decision.reason) == (False, "revoked")


def test_without_the_access_token_a_stranger_is_denied_the_same_container(w, access):
    # follows: CLASSIFY + CHECK_BASIC: the private preset lets only the owner in
    decision = _decide(access["container"], "GET", requester_key=STRANGER.public_key())
    assert (decision.allow, decision.reason) == (False, "basic_acl_deny")


def test_a_container_gone_from_the_database_reads_its_tokens_as_ended(w, access):
    # The records' state is read beside the container; without its row nothing is vouched for,
    # so the decision fails closed rather than reading "not recorded" as "not revoked".
    container = access["container"]
    assert _decide(container, "GET", access_token=access["token"]).allow
    gone = type(container).objects.get(pk=container.pk)
    gone.pk = -1  # no such row
    decision = _decide(gone, "GET", access_token=access["token"])
    assert (decision.allow, decision.reason) == (False, "revoked")


def test_a_session_token_and_an_access_token_together_are_refused(w, access):
    # one author per request: a session token's issuer (getRequestCredentials) or the access
    # token's session owner, never both (the API answers 400 before this point)
    container = access["container"]
    token = w.session(container)
    decision = request_verify(
        Operation(
            container=container, object_verb=ObjectVerb.GET, session_token=token,
            access_token=access["token"],
        )
    )  # fmt: skip
    assert (decision.allow, decision.reason) == (False, "session_and_access_token")


def test_a_remembered_signature_check_does_not_vouch_for_another_signature(w):
    # follows: acl/v2/service.go verifyBearerTokenAgainstRequest (the token's signature checked
    # on every request): the decision point remembers a check by the signed bytes' digest and the
    # signature, so the same body under a signature of another key is checked afresh
    container = w.container(0x0FBFBFFF)  # eacl-public-read-write: the bearer's table applies
    bearer = w.bearer(container, "allow get others")
    assert _decide(container, "GET", bearer_token=bearer).reason == "allowed"
    forged = BearerToken(bearer.body, signed_data=bearer.signed_data).signed(SoftwareSigner())
    forged = BearerToken(forged.body, forged.signature, bearer.signed_data)
    assert _decide(container, "GET", bearer_token=forged).reason == "issuer_mismatch"
    garbled = BearerToken(
        bearer.body, dataclasses.replace(bearer.signature, sign=bytes(64)), bearer.signed_data
    )
    assert _decide(container, "GET", bearer_token=garbled).reason == "bad_signature"
