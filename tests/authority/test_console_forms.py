"""Console forms keep what they are given (issue 15): a basic ACL typed as hex or a preset name,
the container's eACL table, every setting of Add owner, an owner that keeps its own wallet; a
bad value is answered on the form, never with a 500. The API and a management command make
wallet owners through the same service."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from authority.models import AuditEvent, Container, Owner, Role
from authority.principals import SYSTEM
from authority.services.eacl_tables import eacl_table_create
from authority.services.owners import owner_create
from hsm.models import KeyRecord
from tests.authority.conftest import login
from tests.factories import UserFactory
from tokens.wire import eacl as wire
from tokens.wire.eacl_rules import parse_rules
from tokens.wire.ids import OwnerID

pytestmark = pytest.mark.django_db

# A wallet's compressed P-256 public key (any valid point: the generator of P-256).
WALLET_KEY = "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"


@pytest.fixture
def superuser():
    return UserFactory(is_superuser=True)


def _add_container(client, owner, **fields):
    return client.post(
        "/admin/authority/container/add/", {"owner": owner.pk, "name": "logs", **fields}
    )


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("0x1FBFBFFF", 0x1FBFBFFF),
        ("1fbfbfff", 0x1FBFBFFF),
        ("public-read", 0x1FBF8CFF),
        ("eacl-private", 0x0C8C8CCC),
    ],
)
def test_basic_acl_is_kept_as_typed_in_hex_or_as_a_preset(world, member, acme, typed, kept):
    client = login(member(acme, Role.OPERATOR))
    response = _add_container(client, acme, basic_acl=typed)
    assert response.status_code == 302, response.content
    container = Container.objects.get(name="logs")
    assert container.basic_acl == kept
    page = client.get(f"/admin/authority/container/{container.pk}/change/").content.decode()
    assert f'value="0x{kept:08X}"' in page  # shown back as hex, in a text input
    assert 'type="number"' not in page


@pytest.mark.parametrize("typed", ["0x1FFFFFFFF", "4294967296", "0xZZ", "public", "1" * 200])
def test_a_bad_basic_acl_is_a_form_error_not_a_500(world, member, acme, typed):
    client = login(member(acme, Role.OPERATOR))
    response = _add_container(client, acme, basic_acl=typed)
    assert response.status_code == 200
    assert "Not a basic ACL" in response.content.decode()
    assert not Container.objects.filter(name="logs").exists()


def test_a_basic_acl_above_uint32_on_change_is_a_form_error(world, member, acme):
    client = login(member(acme, Role.OPERATOR))
    own = world["acme"]["container"]
    url = f"/admin/authority/container/{own.pk}/change/"
    response = client.post(url, {"name": own.name, "basic_acl": "0x100000000"})
    assert response.status_code == 200
    assert "at most 0xFFFFFFFF" in response.content.decode()


def test_the_chosen_eacl_table_is_kept_on_add(world, member, acme):
    operator = member(acme, Role.OPERATOR)
    from authority.principals import Principal

    table = eacl_table_create(
        actor=Principal(user=operator),
        owner=acme,
        name="unbound",
        container=None,
        table=wire.Table(container_id=None, records=parse_rules("deny put others")),
    )
    client = login(operator)
    response = _add_container(client, acme, basic_acl="0x0FBFBFFF", eacl_table=table.pk)
    assert response.status_code == 302, response.content
    container = Container.objects.get(name="logs")
    assert container.eacl_table_id == table.pk
    assert container.basic_acl == 0x0FBFBFFF


def test_another_owners_eacl_table_is_not_offered(world, member, acme):
    client = login(member(acme, Role.OPERATOR))
    response = _add_container(client, acme, eacl_table=world["globex"]["table"].pk)
    assert response.status_code == 200  # not a choice
    assert not Container.objects.filter(name="logs").exists()


def test_api_and_console_spell_a_basic_acl_alike(world, member, acme, user_client):
    client = user_client(member(acme, Role.OPERATOR))
    for spelling, value in [("public-read-write", 0x1FBFBFFF), ("1fbf8cff", 0x1FBF8CFF)]:
        response = client.post(
            "/api/v1/containers", {"name": spelling, "basic_acl": spelling}, format="json"
        )
        assert response.status_code == 201, response.content
        assert response.json()["basic_acl"] == f"0x{value:08X}"
    as_number = client.post(
        "/api/v1/containers", {"name": "n", "basic_acl": 0x1C8C8CCC}, format="json"
    )
    assert as_number.json()["basic_acl"] == "0x1C8C8CCC"  # JSON integers stay accepted
    too_big = client.post(
        "/api/v1/containers", {"name": "b", "basic_acl": "0x1FFFFFFFF"}, format="json"
    )
    assert too_big.status_code == 400


OWNER_FORM = {
    "name": "Initech",
    "slug": "initech",
    "bearer_flavour": "frostfs",
    "renew_period": "600",
    "max_lifetime": "7200",
}


def test_add_owner_keeps_every_setting(superuser):
    client = login(superuser)
    response = client.post("/admin/authority/owner/add/", OWNER_FORM)
    assert response.status_code == 302, response.content
    owner = Owner.objects.get(slug="initech")
    assert (owner.bearer_flavour, owner.renew_period, owner.max_lifetime) == ("frostfs", 600, 7200)
    assert not owner.signs_own_tokens
    assert KeyRecord.objects.filter(owner=owner, purpose="owner_signing").count() == 1


def test_add_owner_that_keeps_its_wallet_makes_no_key(superuser):
    client = login(superuser)
    form = {**OWNER_FORM, "signs_own_tokens": "on", "public_key": WALLET_KEY}
    response = client.post("/admin/authority/owner/add/", form)
    assert response.status_code == 302, response.content
    owner = Owner.objects.get(slug="initech")
    assert owner.signs_own_tokens
    assert bytes(owner.public_key).hex() == WALLET_KEY
    assert owner.neofs_owner_id == str(OwnerID.from_public_key(bytes.fromhex(WALLET_KEY)))
    assert not KeyRecord.objects.filter(owner=owner).exists()
    assert AuditEvent.objects.filter(action="owner.create", owner=owner).exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"signs_own_tokens": "on"}, "gives its key"),
        ({"public_key": WALLET_KEY}, "Tick this"),
        ({"signs_own_tokens": "on", "public_key": "02" + "00" * 31 + "01"}, "not a point on P-256"),
        ({"signs_own_tokens": "on", "public_key": "zz"}, "Hex digits only"),
        ({"signs_own_tokens": "on", "public_key": "02abcd"}, "33 bytes"),
        ({"renew_period": "99999999999"}, "renew"),
        ({"renew_period": "9000", "max_lifetime": "60"}, "exceeds the maximum lifetime"),
        ({"slug": "acme"}, "exists"),
        ({"slug": "no spaces"}, "slug"),
    ],
)
def test_add_owner_answers_every_bad_value_on_the_form(acme, superuser, changes, message):
    client = login(superuser)
    response = client.post("/admin/authority/owner/add/", {**OWNER_FORM, **changes})
    assert response.status_code == 200
    assert message.lower() in response.content.decode().lower()
    assert not Owner.objects.filter(slug="initech").exists()


def test_a_wallet_key_in_use_is_refused_on_the_form(superuser):
    owner_create(actor=SYSTEM, name="W", slug="wallet", public_key=bytes.fromhex(WALLET_KEY))
    client = login(superuser)
    form = {**OWNER_FORM, "signs_own_tokens": "on", "public_key": WALLET_KEY}
    response = client.post("/admin/authority/owner/add/", form)
    assert response.status_code == 200
    assert "An owner with this key exists" in response.content.decode()


def test_owner_admin_change_keeps_settings_and_refuses_bad_ones(world, member, acme):
    client = login(member(acme, Role.ADMIN))
    url = f"/admin/authority/owner/{acme.pk}/change/"
    ok = client.post(
        url,
        {"name": "Acme", "bearer_flavour": "frostfs", "renew_period": "60", "max_lifetime": "120"},
    )
    assert ok.status_code == 302, ok.content
    acme.refresh_from_db()
    assert (acme.bearer_flavour, acme.renew_period, acme.max_lifetime) == ("frostfs", 60, 120)
    bad = client.post(
        url,
        {"name": "Acme", "bearer_flavour": "neofs", "renew_period": "600", "max_lifetime": "120"},
    )
    assert bad.status_code == 200
    assert "exceeds the maximum lifetime" in bad.content.decode()
    acme.refresh_from_db()
    assert (acme.bearer_flavour, acme.renew_period) == ("frostfs", 60)


def test_api_creates_a_wallet_owner_for_superusers_only(db, user_client, member, acme):
    body = {
        "name": "Initech",
        "slug": "initech",
        "public_key": WALLET_KEY,
        "bearer_flavour": "frostfs",
        "renew_period": 600,
        "max_lifetime": 7200,
    }
    admin_of_acme = user_client(member(acme, Role.ADMIN))
    assert admin_of_acme.post("/api/v1/owners", body, format="json").status_code == 403
    client = user_client(UserFactory(is_superuser=True))
    response = client.post("/api/v1/owners", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["signs_own_tokens"] is True and created["public_key"] == WALLET_KEY
    assert created["bearer_flavour"] == "frostfs" and created["max_lifetime"] == 7200
    assert not KeyRecord.objects.filter(owner__slug="initech").exists()
    again = client.post("/api/v1/owners", {**body, "slug": "other"}, format="json")
    assert again.status_code == 400 and "public_key" in again.json()["fields"]
    bad = client.post("/api/v1/owners", {**body, "public_key": "nothex"}, format="json")
    assert bad.status_code == 400


def test_api_owner_create_refuses_service_accounts(acme, service_client):
    client = service_client(acme, Role.ADMIN)
    response = client.post("/api/v1/owners", {"name": "X", "slug": "x"}, format="json")
    assert response.status_code == 403
    assert not Owner.objects.filter(slug="x").exists()


def test_management_command_creates_a_wallet_owner(db):
    out = io.StringIO()
    call_command(
        "owner_create",
        "--name=Initech",
        "--slug=initech",
        f"--public-key={WALLET_KEY}",
        "--bearer-flavour=frostfs",
        "--renew-period=600",
        stdout=out,
    )
    owner = Owner.objects.get(slug="initech")
    assert owner.signs_own_tokens and owner.renew_period == 600
    assert owner.neofs_owner_id in out.getvalue()
    assert not KeyRecord.objects.filter(owner=owner).exists()
    with pytest.raises(CommandError, match="public_key"):
        call_command("owner_create", "--name=X", "--slug=x", "--public-key=02abcd")
