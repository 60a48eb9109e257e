"""The console's forms and actions in a real browser (issue 15): a container keeps a hex basic
ACL and its eACL table; a superuser adds an owner that keeps its own wallet; an owner admin
cancels a session and revokes a bearer grant through confirmation pages; a service account is
created and its secret works at /o/token/; another owner's admin sees none of it."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from authority.models import Container, Owner, Role
from authority.principals import Principal
from authority.services.eacl_tables import eacl_table_create
from hsm.models import KeyRecord
from tests.factories import ContainerFactory, UserFactory
from tokens.models import BearerGrant, Session
from tokens.wire import eacl as wire
from tokens.wire.eacl_rules import parse_rules
from tokens.wire.ids import OwnerID
from tokens.wire.signature import SoftwareSigner

WALLET_KEY = "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"

Shot = Callable[[Page, str], Any]
LogIn = Callable[[Page, Any], None]


@pytest.fixture
def acme_world(acme: Owner, member: Callable[..., Any], user_client: Any) -> dict[str, Any]:
    """Acme's admin and operator, a container, an unbound eACL table, a session and a grant."""
    admin, operator = member(acme, Role.ADMIN), member(acme, Role.OPERATOR)
    container = ContainerFactory(owner=acme, name="photos")
    table = eacl_table_create(
        actor=Principal(user=admin), owner=acme, name="deny-secret", container=None,
        table=wire.Table(
            container_id=None, records=parse_rules("deny get obj:Classification=secret others")
        ),
    )  # fmt: skip
    api = user_client(operator)
    session = api.post(
        "/api/v1/sessions",
        {"verbs": ["GET", "HEAD"], "container": container.container_id},
        format="json",
    )
    assert session.status_code == 201, session.content
    grant = api.post(
        "/api/v1/bearer-grants",
        {
            "container": container.container_id,
            "receiver": str(OwnerID.from_public_key(SoftwareSigner().public_key())),
            "rules": ["deny put others"],
        },
        format="json",
    )
    assert grant.status_code == 201, grant.content
    return {
        "admin": admin,
        "table": table,
        "session": session.json()["id"],
        "grant": grant.json()["id"],
    }


def _choose_owner(page: Page, slug: str) -> None:
    """Picks an owner in the admin's autocomplete (select2) widget."""
    page.click("#id_owner + .select2 .select2-selection")
    page.fill(".select2-search__field", slug)
    page.click(f".select2-results__option:text-is('{slug}')")


def test_a_container_keeps_its_hex_basic_acl_and_eacl_table(
    page: Page, acme_world: dict[str, Any], log_in: LogIn, screenshot: Shot
) -> None:
    log_in(page, acme_world["admin"])
    page.goto("/admin/authority/container/add/")
    _choose_owner(page, "acme")
    page.fill("#id_name", "logs")
    page.fill("#id_basic_acl", "0x1FBFBFFF")
    page.select_option("#id_eacl_table", label="deny-secret")
    screenshot(page, "container-add-filled")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page.locator("#id_basic_acl")).to_have_value("0x1FBFBFFF")
    expect(page.locator("#id_eacl_table option:checked")).to_have_text("deny-secret")
    screenshot(page, "container-kept")
    container = Container.objects.get(name="logs")
    assert container.basic_acl == 0x1FBFBFFF and container.eacl_table == acme_world["table"]
    # A value above uint32 is answered on the form.
    page.fill("#id_basic_acl", "0x1FFFFFFFF")
    page.click("input[name=_continue]")
    expect(page.locator(".errorlist")).to_contain_text("Not a basic ACL")
    screenshot(page, "container-basic-acl-refused")


def test_a_superuser_adds_an_owner_that_keeps_its_wallet(
    page: Page, db: Any, log_in: LogIn, screenshot: Shot
) -> None:
    log_in(page, UserFactory(is_superuser=True))
    page.goto("/admin/authority/owner/add/")
    page.fill("#id_name", "Initech")
    page.fill("#id_slug", "initech")
    page.check("#id_signs_own_tokens")
    page.fill("#id_public_key", WALLET_KEY)
    page.select_option("#id_bearer_flavour", "frostfs")
    page.fill("#id_renew_period", "600")
    page.fill("#id_max_lifetime", "7200")
    screenshot(page, "owner-add-wallet")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page.locator(".field-public_key_hex")).to_contain_text(WALLET_KEY)
    screenshot(page, "owner-wallet-kept")
    owner = Owner.objects.get(slug="initech")
    assert owner.signs_own_tokens and owner.bearer_flavour == "frostfs"
    assert (owner.renew_period, owner.max_lifetime) == (600, 7200)
    assert not KeyRecord.objects.filter(owner=owner).exists()


def test_an_owner_admin_cancels_a_session_after_confirming(
    page: Page, acme_world: dict[str, Any], log_in: LogIn, screenshot: Shot
) -> None:
    session_id = acme_world["session"]
    log_in(page, acme_world["admin"])
    page.goto(f"/admin/tokens/session/{session_id}/change/")
    page.click("#button-cancel")
    expect(page.locator("#content-main")).to_contain_text("cannot be renewed or used again")
    screenshot(page, "session-cancel-confirmation")
    assert Session.objects.get(pk=session_id).cancelled_at is None
    page.click("#confirm-cancel")
    expect(page.locator(".messagelist")).to_contain_text(f"Cancelled: {session_id}")
    expect(page.locator("#button-cancel")).to_have_count(0)
    screenshot(page, "session-cancelled")
    assert Session.objects.get(pk=session_id).cancelled_at is not None


def test_an_owner_admin_revokes_a_bearer_grant_after_confirming(
    page: Page, acme_world: dict[str, Any], log_in: LogIn, screenshot: Shot
) -> None:
    grant_id = acme_world["grant"]
    log_in(page, acme_world["admin"])
    page.goto("/admin/tokens/bearergrant/")
    page.check(f"input[name=_selected_action][value='{grant_id}']")
    page.select_option("select[name=action]", "revoke")
    page.click("button[name=index]")
    expect(page.locator("#content-main")).to_contain_text("cannot be restored")
    screenshot(page, "bearer-revoke-confirmation")
    assert BearerGrant.objects.get(pk=grant_id).revoked_at is None
    page.click("#confirm-revoke")
    expect(page.locator(".messagelist")).to_contain_text(f"Revoked: {grant_id}")
    assert BearerGrant.objects.get(pk=grant_id).revoked_at is not None
    page.goto(f"/admin/tokens/bearergrant/{grant_id}/change/")
    expect(page.locator("#download-json")).to_be_visible()
    expect(page.locator("#button-revoke")).to_have_count(0)
    screenshot(page, "bearer-revoked")


def test_a_service_account_is_created_and_its_secret_works(
    page: Page, acme_world: dict[str, Any], log_in: LogIn, screenshot: Shot
) -> None:
    log_in(page, acme_world["admin"])
    page.goto("/admin/authority/owner/service-accounts/")
    page.click("#add-service-account")
    page.fill("#id_name", "nightly backup")
    page.select_option("#id_role", "operator")
    page.click("input[name=_save]")
    client_id = page.inner_text("#client-id")
    secret = page.inner_text("#client-secret")
    screenshot(page, "service-account-secret")
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    answer = page.request.post(
        "/o/token/",
        form={"grant_type": "client_credentials", "scope": "authority"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status == 200, answer.text()
    token = answer.json()["access_token"]
    owners = page.request.get("/api/v1/owners", headers={"Authorization": f"Bearer {token}"})
    assert [o["slug"] for o in owners.json()["results"]] == ["acme"]
    page.goto("/admin/authority/owner/service-accounts/")
    expect(page.locator("#service-accounts")).to_contain_text("nightly backup")
    expect(page.locator("#service-accounts")).not_to_contain_text(secret)
    screenshot(page, "service-accounts")


def test_another_owners_admin_sees_none_of_it(
    page: Page,
    acme_world: dict[str, Any],
    globex: Owner,
    member: Callable[..., Any],
    log_in: LogIn,
    screenshot: Shot,
) -> None:
    from authority.services.service_accounts import service_account_create

    service_account_create(
        actor=Principal(user=acme_world["admin"]), owner=Owner.objects.get(slug="acme"),
        name="acme-robot",
    )  # fmt: skip
    log_in(page, member(globex, Role.ADMIN))
    for url, hidden in [
        ("/admin/tokens/session/", acme_world["session"]),
        ("/admin/tokens/bearergrant/", acme_world["grant"]),
        ("/admin/authority/container/", "photos"),
        ("/admin/authority/eacltable/", "deny-secret"),
        ("/admin/authority/owner/service-accounts/", "acme-robot"),
    ]:
        page.goto(url)
        expect(page.locator("#content")).not_to_contain_text(hidden)
    screenshot(page, "service-accounts-as-globex-admin")
    for url in [
        f"/admin/tokens/session/{acme_world['session']}/cancel/",
        f"/admin/tokens/bearergrant/{acme_world['grant']}/revoke/",
        f"/admin/tokens/bearergrant/{acme_world['grant']}/download.json",
    ]:
        assert page.goto(url).status == 404, url  # type: ignore[union-attr]
    page.goto("/admin/authority/container/add/")
    page.click("#id_owner + .select2 .select2-selection")
    page.fill(".select2-search__field", "")
    expect(page.locator(".select2-results__options")).to_contain_text("globex")
    expect(page.locator(".select2-results__options")).not_to_contain_text("acme")
    page.keyboard.press("Escape")
    expect(page.locator("#id_eacl_table")).not_to_contain_text("deny-secret")
    screenshot(page, "container-add-as-globex-admin")
