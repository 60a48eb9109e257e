"""Bearer grants: NeoFS bearer tokens signed by the container owner's HSM key, from a stored
table, NeoFS JSON or rule lines; NeoFS or FrostFS flavour; listed, scoped, revocable."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from authority.models import Role
from tests.wire.neofs_schema import MESSAGES
from tokens.wire.bearer import BearerToken, Flavour
from tokens.wire.eacl_rules import format_rule
from tokens.wire.ids import OwnerID
from tokens.wire.signature import SoftwareSigner
from tokens.wire.token import Check

pytestmark = pytest.mark.django_db

RECEIVER = OwnerID.from_public_key(SoftwareSigner().public_key())


def _issue(world, client=None, **body):
    payload = {
        "container": world["container"].container_id,
        "receiver": str(RECEIVER),
        "rules": ["deny get obj:Classification=secret others"],
        **body,
    }
    return (client or world["operator"]).post("/api/v1/bearer-grants", payload, format="json")


def test_issue_signs_a_neofs_bearer_token_with_the_owners_key(world):
    response = _issue(world)
    assert response.status_code == 201, response.content
    grant = response.json()
    token = BearerToken.decode(base64.b64decode(grant["token"]["binary"]))
    assert token.check() is Check.OK
    assert token.body.issuer == OwnerID.from_string(world["acme"].neofs_owner_id)
    assert token.body.owner_id == RECEIVER
    assert token.body.eacl_table.container_id.value == bytes(world["container"].cid)
    assert [format_rule(r) for r in token.body.eacl_table.records] == [
        "deny get obj:Classification=secret others"
    ]
    assert token.body.lifetime.exp > token.body.lifetime.iat
    assert BearerToken.from_json(grant["token"]["json"]) == token
    # An independent protobuf schema reads the same fields.
    parsed = MESSAGES["BearerToken"].FromString(token.encode())
    assert parsed.body.issuer.value == token.body.issuer.value


def test_frostfs_owners_get_the_frostfs_flavour(world):
    world["acme"].bearer_flavour = "frostfs"
    world["acme"].save()
    grant = _issue(world).json()
    token = BearerToken.decode(base64.b64decode(grant["token"]["binary"]), flavour=Flavour.FROSTFS)
    assert token.body.flavour is Flavour.FROSTFS and token.check() is Check.OK


def test_tables_from_storage_or_neofs_json(world, tenant):
    stored = tenant(world["acme"])["table"]
    both = _issue(world, container=stored.container.container_id, eacl_table=str(stored.public_id))
    assert both.status_code == 400  # rules and a stored table: which one?
    only_table = world["operator"].post(
        "/api/v1/bearer-grants",
        {"container": stored.container.container_id, "eacl_table": str(stored.public_id)},
        format="json",
    )
    assert only_table.status_code == 201, only_table.content
    neofs_json = world["operator"].post(
        "/api/v1/bearer-grants",
        {
            "container": world["container"].container_id,
            "table": {
                "records": [{"operation": "PUT", "action": "DENY", "targets": [{"role": "OTHERS"}]}]
            },
        },
        format="json",
    )
    assert neofs_json.status_code == 201, neofs_json.content


def test_anyone_receiver_and_bad_input(world):
    anyone = _issue(world, receiver=None).json()
    token = BearerToken.decode(base64.b64decode(anyone["token"]["binary"]))
    assert token.body.owner_id is None and anyone["receiver"] == ""
    assert "receiver" in _issue(world, receiver="0OIl").json()["fields"]
    assert "rules[0].operation" in _issue(world, rules=["deny fly others"]).json()["fields"]
    assert _issue(world, lifetime=0).status_code == 400


def test_roles_and_tenants(world):
    assert _issue(world, client=world["viewer"]).status_code == 403
    assert _issue(world, container=world["globex_container"].container_id).status_code == 404
    grant = _issue(world).json()
    assert world["globex_service"].get(f"/api/v1/bearer-grants/{grant['id']}").status_code == 404
    assert world["globex_service"].get("/api/v1/bearer-grants").json()["count"] == 0


def test_revoke_is_recorded_and_idempotent(world):
    grant = _issue(world).json()
    first = world["operator"].post(f"/api/v1/bearer-grants/{grant['id']}/revoke")
    assert first.status_code == 200 and first.json()["revoked_at"]
    second = world["operator"].post(f"/api/v1/bearer-grants/{grant['id']}/revoke")
    assert second.json()["revoked_at"] == first.json()["revoked_at"]
    assert world["viewer"].post(f"/api/v1/bearer-grants/{grant['id']}/revoke").status_code == 403


def test_admin_lists_revokes_and_downloads(world, member):
    grant = _issue(world).json()
    client = Client()
    client.force_login(member(world["acme"], Role.ADMIN))
    assert grant["id"] in client.get("/admin/tokens/bearergrant/").content.decode()
    download = client.get(f"/admin/tokens/bearergrant/{grant['id']}/download/")
    assert download.content == base64.b64decode(grant["token"]["binary"])
    client.post(
        "/admin/tokens/bearergrant/",
        {"action": "revoke", "_selected_action": [grant["id"]], "confirmed": "yes"},
    )
    assert world["operator"].get(f"/api/v1/bearer-grants/{grant['id']}").json()["revoked_at"]


# --- epochs given directly, allow_impersonate, the record cap, and imported tokens -------------


def _epoch():
    from authority.epoch import current_epoch

    return current_epoch()


def test_epochs_given_directly(world):
    now = _epoch()
    response = _issue(world, exp=now + 7, nbf=now + 1, iat=now)
    assert response.status_code == 201, response.content
    grant = response.json()
    assert (grant["exp"], grant["nbf"], grant["iat"]) == (now + 7, now + 1, now)
    token = BearerToken.decode(base64.b64decode(grant["token"]["binary"]))
    assert (token.body.lifetime.exp, token.body.lifetime.nbf) == (now + 7, now + 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"exp": 0}, "exp"),  # already over
        ({"exp": 10**9}, "exp"),  # beyond the longest lifetime
        ({"exp": "{now+2}", "nbf": "{now+3}"}, "nbf"),  # nbf after exp
        ({"exp": "{now+2}", "iat": "{now+3}"}, "iat"),
        ({"exp": "{now+2}", "lifetime": 60}, "exp"),  # both ways at once
    ],
)
def test_bad_epochs_are_refused_naming_the_field(world, body, field):
    now = _epoch()
    body = {
        k: eval(v[1:-1], {"now": now}) if isinstance(v, str) else v  # noqa: S307 - test data
        for k, v in body.items()
    }
    response = _issue(world, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_allow_impersonate_is_frostfs_only(world):
    assert _issue(world, allow_impersonate=True).status_code == 400
    world["acme"].bearer_flavour = "frostfs"
    world["acme"].save()
    response = _issue(world, allow_impersonate=True)
    assert response.status_code == 201, response.content
    assert response.json()["allow_impersonate"] is True
    token = BearerToken.decode(base64.b64decode(response.json()["token"]["binary"]))
    assert token.body.allow_impersonate is True and token.check() is Check.OK


def test_a_bearer_table_is_capped_like_a_stored_one(world):
    record = {
        "operation": "GET", "action": "DENY", "filters": [],
        "targets": [{"role": "OTHERS", "keys": []}],
    }  # fmt: skip
    table = {"version": {"major": 2, "minor": 0}, "containerID": None, "records": [record] * 1001}
    payload = {"container": world["container"].container_id, "table": table}
    response = world["operator"].post("/api/v1/bearer-grants", payload, format="json")
    assert response.status_code == 400, response.content
    assert "records" in response.json()["fields"]
    table["records"] = [record] * 1000
    response = world["operator"].post("/api/v1/bearer-grants", payload, format="json")
    assert response.status_code == 201, response.content


def _wallet_owner(world):
    wallet = SoftwareSigner()
    acme = world["acme"]
    acme.signs_own_tokens = True
    acme.neofs_owner_id = str(OwnerID.from_public_key(wallet.public_key()))
    acme.save()
    return wallet


def _wallet_token(world, wallet, *, exp=None, container=None, issuer=None, signer=None):
    from tokens.wire import eacl as wire
    from tokens.wire.bearer import BearerBody
    from tokens.wire.eacl_rules import parse_rules
    from tokens.wire.ids import ContainerID
    from tokens.wire.lifetime import Lifetime

    now = _epoch()
    body = BearerBody(
        eacl_table=wire.Table(
            ContainerID(bytes((container or world["container"]).cid)),
            parse_rules("deny get others"),
        ),
        owner_id=RECEIVER,
        lifetime=Lifetime(exp=now + 5 if exp is None else exp, nbf=now, iat=now),
        issuer=issuer or OwnerID.from_public_key(wallet.public_key()),
    )
    return BearerToken(body).signed(signer or wallet)


def _import(world, token, client=None):
    payload = {"token": base64.b64encode(token.encode()).decode()}
    return (client or world["operator"]).post(
        "/api/v1/bearer-grants/import", payload, format="json"
    )


def test_a_wallet_owners_token_is_imported_listed_revoked_and_then_refused_by_verify(world):
    wallet = _wallet_owner(world)
    token = _wallet_token(world, wallet)
    response = _import(world, token)
    assert response.status_code == 201, response.content
    grant = response.json()
    assert base64.b64decode(grant["token"]["binary"]) == token.encode()
    listed = world["operator"].get("/api/v1/bearer-grants").json()["results"]
    assert grant["id"] in [g["id"] for g in listed]
    assert _import(world, token).status_code == 409  # once
    verify = {
        "verb": "GET", "container": world["container"].container_id,
        "bearer_token": grant["token"]["binary"],
        "requester_account": str(RECEIVER),
    }  # fmt: skip
    before = world["operator"].post("/api/v1/verify", verify, format="json").json()
    assert before["reason"] == "eacl_deny"  # the receiver is OTHERS: its own table denies it
    world["operator"].post(f"/api/v1/bearer-grants/{grant['id']}/revoke")
    after = world["operator"].post("/api/v1/verify", verify, format="json").json()
    assert after["reason"] == "revoked"


@pytest.mark.parametrize("defect", ["signature", "issuer", "foreign_container", "expired"])
def test_imports_are_checked_as_a_node_checks_the_token(world, defect):
    wallet = _wallet_owner(world)
    stranger = SoftwareSigner()
    token = {
        # the signing key does not derive the issuer
        "signature": lambda: _wallet_token(world, wallet, signer=stranger),
        # signed by a key that is not the container owner's (issuer binding holds)
        "issuer": lambda: _wallet_token(
            world, wallet, signer=stranger, issuer=OwnerID.from_public_key(stranger.public_key())
        ),
        "foreign_container": lambda: _wallet_token(
            world, wallet, container=world["globex_container"]
        ),
        "expired": lambda: _wallet_token(world, wallet, exp=_epoch() - 1),
    }[defect]()
    response = _import(world, token)
    assert response.status_code in (400, 404), response.content
    if defect == "foreign_container":
        assert response.status_code == 404  # another owner's container is not visible
    assert not world["operator"].get("/api/v1/bearer-grants").json()["results"]
