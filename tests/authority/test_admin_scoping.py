"""The admin shows a staff member only their owners' rows: lists, forms, filters, autocompletes
and actions; viewers read but cannot write; writes are audited."""

from __future__ import annotations

import pytest

from authority.models import AuditEvent, Container, EACLTable, Role
from tests.authority.conftest import login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["owner", "membership", "container", "eacltable", "auditevent"])
def test_changelists_show_only_own_rows(world, member, acme, model):
    client = login(member(acme, Role.OPERATOR))
    response = client.get(f"/admin/authority/{model}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "globex" not in page.lower()


def test_change_pages_of_other_tenants_are_unreachable(world, member, acme):
    client = login(member(acme, Role.ADMIN))
    globex = world["globex"]
    for url in [
        f"/admin/authority/container/{globex['container'].pk}/change/",
        f"/admin/authority/eacltable/{globex['table'].pk}/change/",
        f"/admin/authority/owner/{globex['container'].owner_id}/change/",
        f"/admin/authority/eaclrecord/{globex['table'].records.first().pk}/change/",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url  # "doesn't exist", back to the index
        posted = client.post(url, {"name": "stolen"})
        assert posted.status_code in (302, 403), url
    assert Container.objects.get(pk=globex["container"].pk).name != "stolen"
    assert EACLTable.objects.get(pk=globex["table"].pk).name != "stolen"


def test_owner_filter_and_form_choices_are_scoped(world, member, acme):
    from tests.factories import MembershipFactory, OwnerFactory

    user = member(acme, Role.OPERATOR)
    initech = OwnerFactory(slug="initech")
    MembershipFactory(owner=initech, user=user, role=Role.VIEWER)
    client = login(user)
    changelist = client.get("/admin/authority/container/")
    owner_filter = changelist.context["cl"].filter_specs[0]
    assert [label for _, label in owner_filter.lookup_choices] == ["acme", "initech"]
    add_form = client.get("/admin/authority/container/add/")
    assert add_form.status_code == 200
    choices = list(add_form.context["adminform"].form.fields["owner"].queryset)
    assert choices == [acme]  # a viewer of initech may not add there


def test_autocomplete_is_scoped(world, member, acme):
    client = login(member(acme, Role.OPERATOR))
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "authority", "model_name": "container", "field_name": "owner", "term": ""},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["acme"]


def test_bulk_delete_action_cannot_reach_other_tenants(world, member, acme):
    client = login(member(acme, Role.ADMIN))
    globex_container = world["globex"]["container"]
    client.post(
        "/admin/authority/container/",
        {"action": "delete_selected", "_selected_action": [globex_container.pk], "post": "yes"},
    )
    assert Container.objects.filter(pk=globex_container.pk).exists()


def test_bulk_delete_of_own_rows_goes_through_the_service(world, member, acme):
    client = login(member(acme, Role.ADMIN))
    own = world["acme"]["container"]
    response = client.post(
        "/admin/authority/container/",
        {"action": "delete_selected", "_selected_action": [own.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Container.objects.filter(pk=own.pk).exists()
    assert AuditEvent.objects.filter(action="container.delete", owner=acme).exists()


def test_viewer_reads_but_cannot_write(world, member, acme):
    client = login(member(acme, Role.VIEWER))
    own = world["acme"]["container"]
    url = f"/admin/authority/container/{own.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(url, {"name": "renamed"}).status_code == 403
    assert client.get("/admin/authority/container/add/").status_code == 403
    assert Container.objects.get(pk=own.pk).name == own.name


def test_operator_adds_a_container_through_the_service(world, member, acme):
    client = login(member(acme, Role.OPERATOR))
    response = client.post(
        "/admin/authority/container/add/", {"owner": acme.pk, "name": "from-admin"}
    )
    assert response.status_code == 302, response.content
    created = Container.objects.get(name="from-admin")
    assert len(bytes(created.cid)) == 32
    assert AuditEvent.objects.filter(action="container.create", owner=acme).exists()


def test_operator_cannot_add_into_another_owner(world, member, acme, globex):
    client = login(member(acme, Role.OPERATOR))
    response = client.post(
        "/admin/authority/container/add/", {"owner": globex.pk, "name": "planted"}
    )
    assert response.status_code == 200  # the form rejects a choice it did not offer
    assert not Container.objects.filter(name="planted").exists()


def test_eacl_records_are_edited_inline_in_order(world, member, acme):
    client = login(member(acme, Role.OPERATOR))
    table = world["acme"]["table"]
    page = client.get(f"/admin/authority/eacltable/{table.pk}/change/").content.decode()
    assert "deny get obj:Classification=secret others" in page


def test_non_members_see_no_tenancy_admin(db):
    from tests.factories import UserFactory

    client = login(UserFactory())
    assert client.get("/admin/authority/container/").status_code == 403


def test_eacl_table_page_costs_the_same_queries_whatever_its_size(world, acme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from authority.principals import Principal
    from authority.services.eacl_tables import eacl_table_update
    from tokens.wire import eacl as wire
    from tokens.wire.eacl_rules import parse_rules

    admin = world["acme"]["admin"]
    table = world["acme"]["table"]
    client = login(admin)
    url = f"/admin/authority/eacltable/{table.pk}/change/"
    counts = []
    for size in (1, 30):
        rules = "\n".join(f"deny get obj:Level={i} pubkey:{'02' + '11' * 32}" for i in range(size))
        eacl_table_update(
            actor=Principal(user=admin), eacl_table=table,
            table=wire.Table(container_id=None, records=parse_rules(rules)),
        )  # fmt: skip
        client.get(url)  # the first page view of a session warms what every view shares
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_history_pages_do_not_tell_which_ids_exist(world, member, acme):
    """For every model of the console that is not owner-scoped (users, groups, OAuth2 and
    schedule models), a staff member without rights on it gets the same answer for an id that
    exists as for one that does not, on the change, history and delete pages."""
    from django.contrib import admin
    from django.contrib.auth.models import Group
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from authority.admin.scoping import OwnerScopedAdmin
    from tests.factories import ApplicationFactory

    Group.objects.create(name="operators")
    ApplicationFactory()
    every = IntervalSchedule.objects.create(every=10, period="seconds")
    PeriodicTask.objects.create(name="nightly", task="x", interval=every)
    client = login(member(acme, Role.ADMIN))
    checked = 0
    for model, model_admin in admin.site._registry.items():
        existing = model._default_manager.first()
        if isinstance(model_admin, OwnerScopedAdmin) or existing is None:
            continue
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}"
        for page in ("change", "history", "delete"):
            there = client.get(f"{base}/{existing.pk}/{page}/").status_code
            missing = client.get(f"{base}/987654321/{page}/").status_code
            assert there == missing, (model._meta.label, page, there, missing)
        checked += 1
    assert checked >= 5
