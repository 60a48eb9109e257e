"""One scoping mechanism (`visible_to`) behind selectors, services, the API and the admin; the
admin saves through the services, so their checks and audit rows apply."""

from __future__ import annotations

import pytest
from django.utils import timezone

from authority.errors import NotAllowed, NotFound
from authority.models import AuditEvent, Container, EACLTable, Membership, Owner, Role
from authority.principals import SYSTEM, Principal
from authority.scoping import applications_visible_to, principal_role, users_visible_to
from authority.services.owners import membership_set
from tests.authority.conftest import login
from tests.factories import ApplicationFactory, ContainerFactory, MembershipFactory, UserFactory
from tokens.models import Session

pytestmark = pytest.mark.django_db


def test_visible_to_follows_memberships_and_roles(world, member, acme, globex):
    viewer = Principal(user=member(acme, Role.VIEWER))
    assert list(Owner.objects.visible_to(viewer)) == [acme]
    assert list(Owner.objects.visible_to(viewer, roles={Role.ADMIN, Role.OPERATOR})) == []
    assert set(Container.objects.visible_to(viewer)) == {world["acme"]["container"]}
    assert set(EACLTable.objects.visible_to(viewer)) == {world["acme"]["table"]}
    assert {m.owner for m in Membership.objects.visible_to(viewer)} == {acme}
    assert not AuditEvent.objects.visible_to(viewer).exclude(owner=acme).exists()
    assert AuditEvent.objects.visible_to(viewer).filter(owner=acme).exists()


def test_superusers_and_the_authority_see_every_owner_others_nothing(world, acme, globex):
    superuser = Principal(user=UserFactory(is_superuser=True), console=True)
    for principal in (superuser, SYSTEM):
        assert set(Owner.objects.visible_to(principal)) == {acme, globex}
        assert principal_role(principal, globex) == Role.ADMIN
    # A session holder is named in audit rows as a system actor, yet sees no owner.
    holder = Principal(system="session-holder:x")
    assert not Owner.objects.visible_to(holder).exists()
    assert principal_role(holder, acme) is None
    inactive = UserFactory(is_superuser=True, is_active=False)
    assert not Owner.objects.visible_to(Principal(user=inactive, console=True)).exists()


def test_sessions_and_keys_are_scoped_by_the_same_queryset(world, member, acme, globex):
    from hsm.models import KeyRecord

    principal = Principal(user=member(acme, Role.VIEWER))
    assert set(KeyRecord.objects.visible_to(principal).values_list("owner", flat=True)) == {acme.pk}
    now = timezone.now()
    for owner in (acme, globex):
        Session.objects.create(
            owner=owner, subject="x", kind="delegation", context="container",
            expires_at=now, max_expires_at=now,
        )  # fmt: skip
    assert {s.owner for s in Session.objects.visible_to(principal)} == {acme}


def test_member_candidates_hide_other_owners_members(world, member, acme, globex):
    admin = Principal(user=world["acme"]["admin"])
    colleague = member(acme, Role.VIEWER)
    stranger = member(globex, Role.VIEWER)
    loner = UserFactory()
    globex_app = ApplicationFactory()
    MembershipFactory(owner=globex, user=None, application=globex_app)
    free_app = ApplicationFactory()
    users = set(users_visible_to(admin))
    assert {colleague, loner} <= users
    assert stranger not in users
    applications = set(applications_visible_to(admin))
    assert free_app in applications
    assert globex_app not in applications
    # A viewer administers nothing: it may name only those in no owner yet.
    viewer = Principal(user=colleague)
    assert colleague not in set(users_visible_to(viewer))


def test_membership_service_refuses_another_owners_service_account(world, acme, globex):
    globex_app = ApplicationFactory()
    MembershipFactory(owner=globex, user=None, application=globex_app)
    admin = Principal(user=world["acme"]["admin"])
    with pytest.raises(NotFound):
        membership_set(actor=admin, owner=acme, role=Role.OPERATOR, application=globex_app)
    assert not Membership.objects.filter(owner=acme, application=globex_app).exists()
    # …and an operator does not manage members at all.
    operator = Principal(user=MembershipFactory(owner=acme, role=Role.OPERATOR).user)
    with pytest.raises(NotAllowed):
        membership_set(actor=operator, owner=acme, role=Role.VIEWER, user=UserFactory())


def test_admin_refuses_an_eacl_table_bound_to_another_owners_container(world, acme, globex):
    """A staff member in both owners, through the admin: the API's rule, the same answer."""
    user = UserFactory()
    MembershipFactory(owner=acme, user=user, role=Role.ADMIN)
    MembershipFactory(owner=globex, user=user, role=Role.ADMIN)
    client = login(user)
    response = client.post(
        "/admin/authority/eacltable/add/",
        {
            "owner": acme.pk,
            "name": "crossed",
            "container": world["globex"]["container"].pk,
            "rules": "deny get others",
            "records-TOTAL_FORMS": "0",
            "records-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with the service's reason
    form = response.context["adminform"].form
    assert "No such container." in form.errors["container"]
    assert form["rules"].value() == "deny get others"  # what was typed is kept
    assert not EACLTable.objects.filter(name="crossed").exists()
    assert (
        not AuditEvent.objects.filter(action="eacl_table.create", object_id__gt="")
        .filter(detail__name="crossed")
        .exists()
    )


def test_admin_edits_eacl_rules_through_the_service(world, acme):
    table = world["acme"]["table"]
    client = login(world["acme"]["admin"])
    url = f"/admin/authority/eacltable/{table.pk}/change/"
    response = client.post(
        url,
        {
            "name": table.name,
            "container": table.container_id or "",
            "rules": "allow get user\ndeny put others",
            "records-TOTAL_FORMS": "1",
            "records-INITIAL_FORMS": "1",
        },
    )
    assert response.status_code == 302, response.content
    rows = list(table.records.order_by("position").values_list("operation", "action"))
    assert rows == [(1, 1), (3, 2)]
    assert AuditEvent.objects.filter(action="eacl_table.update", owner=acme).exists()
    bad = client.post(url, {"name": table.name, "rules": "deny fly others"})
    assert bad.status_code == 200
    assert bad.context["adminform"].form.errors["rules"]
    assert table.records.count() == 2


def test_admin_membership_form_offers_only_nameable_members(world, member, acme, globex):
    stranger = member(globex, Role.VIEWER)
    globex_app = ApplicationFactory()
    MembershipFactory(owner=globex, user=None, application=globex_app)
    client = login(world["acme"]["admin"])
    form = client.get("/admin/authority/membership/add/").context["adminform"].form
    assert stranger not in set(form.fields["user"].queryset)
    assert globex_app not in set(form.fields["application"].queryset)
    page = client.get("/admin/authority/membership/add/").content.decode()
    assert stranger.username not in page
    response = client.post(
        "/admin/authority/membership/add/",
        {"owner": acme.pk, "application": globex_app.pk, "role": Role.ADMIN},
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(owner=acme, application=globex_app).exists()


def test_admin_membership_changes_are_audited(world, acme):
    newcomer = UserFactory()
    client = login(world["acme"]["admin"])
    response = client.post(
        "/admin/authority/membership/add/",
        {"owner": acme.pk, "user": newcomer.pk, "role": Role.VIEWER},
    )
    assert response.status_code == 302, response.content
    membership = Membership.objects.get(owner=acme, user=newcomer)
    assert AuditEvent.objects.filter(action="membership.set", owner=acme).exists()
    deleted = client.post(f"/admin/authority/membership/{membership.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="membership.delete", owner=acme).exists()


def test_admin_owner_settings_go_through_the_service(world, member, acme):
    client = login(world["acme"]["admin"])
    response = client.post(
        f"/admin/authority/owner/{acme.pk}/change/",
        {"name": "Acme Corp", "bearer_flavour": "frostfs", "renew_period": "3600"},
    )
    assert response.status_code == 302, response.content
    acme.refresh_from_db()
    assert (acme.name, acme.bearer_flavour, acme.renew_period) == ("Acme Corp", "frostfs", 3600)
    event = AuditEvent.objects.filter(action="owner.update", owner=acme).latest("id")
    assert set(event.detail["fields"]) == {"name", "bearer_flavour", "renew_period"}
    operator = login(member(acme, Role.OPERATOR))
    refused = operator.post(f"/admin/authority/owner/{acme.pk}/change/", {"name": "Mine"})
    assert refused.status_code == 403


def test_superuser_adds_a_container_for_any_owner_with_its_table(world, globex):
    client = login(UserFactory(is_superuser=True))
    table = EACLTable.objects.create(owner=globex, name="spare")
    response = client.post(
        "/admin/authority/container/add/",
        {"owner": globex.pk, "name": "by-operator", "eacl_table": table.pk},
    )
    assert response.status_code == 302, response.content
    created = Container.objects.get(name="by-operator")
    assert created.owner == globex and created.eacl_table == table


def test_owner_autocomplete_offers_only_owners_the_form_may_write(world, member, acme):
    from tests.factories import OwnerFactory

    user = member(acme, Role.OPERATOR)
    initech = OwnerFactory(slug="initech")
    MembershipFactory(owner=initech, user=user, role=Role.VIEWER)
    client = login(user)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "authority", "model_name": "container", "field_name": "owner", "term": ""},
    )
    assert [r["text"] for r in response.json()["results"]] == ["acme"]


def test_a_superuser_sees_every_owner_in_the_console_and_its_own_in_the_api(
    world, user_client, acme, globex
):
    """The console is the service operator's; an API credential of a superuser (a password, a
    client token, any application's OAuth2 token) reaches its memberships only, as before."""
    superuser = UserFactory(is_superuser=True)
    MembershipFactory(owner=acme, user=superuser, role=Role.VIEWER)
    client = user_client(superuser)
    slugs = {o["slug"] for o in client.get("/api/v1/owners").json()["results"]}
    assert slugs == {"acme"}
    container = ContainerFactory(owner=globex)
    assert client.get(f"/api/v1/containers/{container.container_id}").status_code == 404
    page = login(superuser).get("/admin/authority/owner/").content.decode()
    assert "globex" in page and "acme" in page


def test_api_rebinds_an_eacl_table_by_the_same_rules_as_the_admin(
    world, acme, globex, service_client
):
    """PATCH applies `container` (it was ignored) through the same service check."""
    client = service_client(acme, Role.ADMIN)
    table = world["acme"]["table"]
    spare = ContainerFactory(owner=acme)
    url = f"/api/v1/eacl-tables/{table.public_id}"
    moved = client.patch(url, {"container": spare.container_id}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["container"] == spare.container_id
    foreign = client.patch(
        url, {"container": world["globex"]["container"].container_id}, format="json"
    )
    assert foreign.status_code == 404  # another tenant's container is invisible
    assert client.patch(url, {"owner": "globex"}, format="json").status_code == 400
    unbound = client.patch(url, {"container": None}, format="json")
    assert unbound.status_code == 200 and unbound.json()["container"] is None
    table.refresh_from_db()
    assert table.owner == acme and table.container is None


def test_a_compiled_read_puts_each_value_in_exactly_its_places(acme, member):
    """scoped_statement compiles a read once and later fills in each value where the first
    compilation found it; a value found in more places than it takes (a constant that equals
    it) fails the compilation instead of landing where it does not belong."""
    from django.db.models import Q

    from authority.scoping import _scoped_statements, scoped_statement

    principal = Principal(user=member(acme, Role.OPERATOR))

    def by_name(who, name):  # the name in two places of the WHERE clause
        return Container.objects.visible_to(who).filter(Q(name=name) | Q(owner__name=name))

    def clash(who, name):  # the value given once, and a second time as if a constant
        return Container.objects.visible_to(who).filter(name=name).exclude(owner__slug="acme")

    try:
        with pytest.raises(ValueError, match="is not 1 times"):
            scoped_statement("test.clash", principal, clash, ["acme"], ["acme"])
        sql, params = scoped_statement("test.twice", principal, by_name, ["a"], ["a"], [2])
        again_sql, again = scoped_statement("test.twice", principal, by_name, ["a"], ["b"], [2])
        assert again_sql == sql and again.count("b") == 2 and "a" not in again
    finally:
        for key in [key for key in _scoped_statements if key[0].startswith("test.")]:
            del _scoped_statements[key]
