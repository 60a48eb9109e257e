"""Tenant isolation, generated from the URL configuration: every route that takes an object's id
(API, admin and OAuth2), every method it answers, called by each of acme's principals (viewer,
operator, admin, and an OAuth2 service account on the API) with globex's object → 404 (the admin's
"doesn't exist" redirect), nothing changed. A route with an id that the matrix does not cover
fails `test_every_route_with_an_id_is_in_the_matrix`: add it to ROUTES (or, for a global object
no member may reach at all, to GLOBAL_ADMIN_MODELS)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import base58
import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, path
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from authority.models import AuditEvent, Membership, Owner, Role
from hsm.models import KeyRecord
from tests.factories import ApplicationFactory
from tokens.models import BearerGrant, RenewalSchedule, Session
from tokens.wire.ids import OwnerID
from tokens.wire.signature import SoftwareSigner

pytestmark = pytest.mark.django_db

ROLES = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]
API_METHODS = ("get", "post", "put", "patch", "delete")

# route pattern → the id of globex's object it takes (from the world below)
Target = Callable[[dict[str, Any]], dict[str, str]]


def _session(world: dict[str, Any]) -> dict[str, str]:
    return {"session_id": world["session"]}


API_ROUTES: dict[str, Target] = {
    "api/v1/owners/<slug:slug>": lambda w: {"slug": "globex"},
    "api/v1/containers/<str:container_id>": lambda w: {"container_id": w["container_id"]},
    "api/v1/eacl-tables/<str:table_id>": lambda w: {"table_id": w["table_id"]},
    "api/v1/sessions/<str:session_id>": _session,
    "api/v1/sessions/<str:session_id>/complete": lambda w: {"session_id": w["dynamic"]},
    "api/v1/sessions/<str:session_id>/sign": lambda w: {"session_id": w["dynamic"]},
    "api/v1/sessions/<str:session_id>/renew": _session,
    "api/v1/sessions/<str:session_id>/cancel": _session,
    "api/v1/sessions/<str:session_id>/renewal-schedule": _session,
    "api/v1/bearer-grants/<str:grant_id>": lambda w: {"grant_id": w["grant_id"]},
    "api/v1/bearer-grants/<str:grant_id>/revoke": lambda w: {"grant_id": w["grant_id"]},
    "api/v1/owners/<slug:slug>/resource-servers": lambda w: {"slug": "globex"},
}

# Admin models whose rows belong to an owner: globex's row of each.
ADMIN_OBJECTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "authority.owner": lambda w: w["owner"],
    "authority.membership": lambda w: Membership.objects.filter(owner=w["owner"]).first(),
    "authority.container": lambda w: w["tenant"]["container"],
    "authority.eacltable": lambda w: w["tenant"]["table"],
    "authority.eaclrecord": lambda w: w["tenant"]["table"].records.first(),
    "authority.auditevent": lambda w: AuditEvent.objects.filter(owner=w["owner"]).first(),
    "hsm.keyrecord": lambda w: KeyRecord.objects.filter(owner=w["owner"]).first(),
    "tokens.session": lambda w: Session.objects.get(pk=w["session"]),
    "tokens.renewalschedule": lambda w: RenewalSchedule.objects.get(session_id=w["session"]),
    "tokens.bearergrant": lambda w: BearerGrant.objects.get(pk=w["grant_id"]),
}
# Global objects (users, OAuth2 records, schedules): a member who is not a superuser gets 403.
GLOBAL_ADMIN_MODELS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "auth.user": lambda w: w["globex_admin"],
    "auth.group": None,  # type: ignore[dict-item]
    "oauth2_provider.application": lambda w: w["application"],
    "oauth2_provider.accesstoken": lambda w: AccessToken.objects.first(),
    "oauth2_provider.grant": None,  # type: ignore[dict-item]
    "oauth2_provider.idtoken": None,  # type: ignore[dict-item]
    "oauth2_provider.refreshtoken": None,  # type: ignore[dict-item]
    "django_celery_beat.periodictask": None,  # type: ignore[dict-item]
    "django_celery_beat.clockedschedule": None,  # type: ignore[dict-item]
    "django_celery_beat.crontabschedule": None,  # type: ignore[dict-item]
    "django_celery_beat.solarschedule": None,  # type: ignore[dict-item]
    "django_celery_beat.intervalschedule": None,  # type: ignore[dict-item]
    "axes.accessattempt": None,  # type: ignore[dict-item]
    "axes.accessfailurelog": None,  # type: ignore[dict-item]
    "axes.accesslog": None,  # type: ignore[dict-item]
}
ADMIN_OBJECT_ROUTE = re.compile(r"^admin/(\w+)/(\w+)/<path:object_id>/(change/|delete/|history/|)$")
# Other admin routes with an id, each with the globex URL it is called with and what it answers.
ADMIN_EXTRA: dict[str, tuple[Callable[[dict[str, Any]], str], set[int]]] = {
    "admin/tokens/bearergrant/<uuid:grant_id>/download/": (
        lambda w: f"/admin/tokens/bearergrant/{w['grant_id']}/download/",
        {404},
    ),
    "admin/auth/user/<id>/password/": (
        lambda w: f"/admin/auth/user/{w['globex_admin'].pk}/password/",
        {403},
    ),
    "admin/tokens/bearergrant/<uuid:grant_id>/download.json": (
        lambda w: f"/admin/tokens/bearergrant/{w['grant_id']}/download.json",
        {404},
    ),
    "admin/tokens/bearergrant/<path:object_id>/revoke/": (
        lambda w: f"/admin/tokens/bearergrant/{w['grant_id']}/revoke/",
        {404},
    ),
    "admin/tokens/session/<path:object_id>/cancel/": (
        lambda w: f"/admin/tokens/session/{w['session']}/cancel/",
        {404},
    ),
    "admin/tokens/session/<path:object_id>/renew/": (
        lambda w: f"/admin/tokens/session/{w['session']}/renew/",
        {404},
    ),
    "admin/hsm/keyrecord/<path:object_id>/rotate/": (
        lambda w: f"/admin/hsm/keyrecord/{_globex_key(w).pk}/rotate/",
        {404},
    ),
    "admin/hsm/keyrecord/<path:object_id>/destroy/": (
        lambda w: f"/admin/hsm/keyrecord/{_globex_key(w).pk}/destroy/",
        {404},
    ),
    "admin/hsm/keyrecord/<path:object_id>/reset_client_sessions/": (
        lambda w: f"/admin/hsm/keyrecord/{_globex_key(w).pk}/reset_client_sessions/",
        {404},
    ),
    "admin/authority/owner/service-accounts/<int:application_id>/rotate-secret/": (
        lambda w: f"/admin/authority/owner/service-accounts/{w['application'].pk}/rotate-secret/",
        {404},
    ),
    "admin/authority/owner/service-accounts/<int:application_id>/delete/": (
        lambda w: f"/admin/authority/owner/service-accounts/{w['application'].pk}/delete/",
        {404},
    ),
    "admin/r/<path:content_type_id>/<path:object_id>/": (
        lambda w: _view_on_site(w["tenant"]["container"]),
        {404},
    ),
}
# OAuth2 (django-oauth-toolkit) routes: objects of a user (a globex member's application).
OAUTH_ROUTES: dict[str, Callable[[dict[str, Any]], str]] = {
    "o/applications/<slug:pk>/": lambda w: f"/o/applications/{w['application'].pk}/",
    "o/applications/<slug:pk>/delete/": lambda w: f"/o/applications/{w['application'].pk}/delete/",
    "o/applications/<slug:pk>/update/": lambda w: f"/o/applications/{w['application'].pk}/update/",
    "o/authorized_tokens/<slug:pk>/delete/": (
        lambda w: f"/o/authorized_tokens/{w['access_token'].pk}/delete/"
    ),
    "o/register/<str:client_id>/": lambda w: f"/o/register/{w['application'].client_id}/",
    "o/device-confirm/<slug:client_id>/<slug:user_code>": (
        lambda w: f"/o/device-confirm/{w['application'].client_id}/ABCD-EFGH"
    ),
    "o/device-grant-status/<slug:client_id>/<slug:user_code>": (
        lambda w: f"/o/device-grant-status/{w['application'].client_id}/ABCD-EFGH"
    ),
}
# Routes whose parameter names no stored object of anyone.
NO_OBJECT = {
    "admin/^(?P<app_label>auth|oauth2_provider|django_celery_beat|axes|authority|hsm|tokens)/$",
    "admin/(?P<url>.*)$",
    "o/.well-known/oauth-authorization-server/<path:issuer_path>",
    "o/.well-known/oauth-protected-resource/<path:resource_path>",
}


def _globex_key(world: dict[str, Any]) -> KeyRecord:
    return KeyRecord.objects.filter(owner=world["owner"]).first()


def _view_on_site(obj: Any) -> str:
    from django.contrib.contenttypes.models import ContentType

    return f"/admin/r/{ContentType.objects.get_for_model(obj).pk}/{obj.pk}/"


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _routes_with_an_id() -> dict[str, URLPattern]:
    return {
        route: pattern
        for route, pattern in _routes(get_resolver().url_patterns)
        if "<" in route or "(?P" in route
    }


def _covered(route: str) -> bool:
    if route in API_ROUTES or route in ADMIN_EXTRA or route in OAUTH_ROUTES or route in NO_OBJECT:
        return True
    match = ADMIN_OBJECT_ROUTE.match(route)
    if match:
        label = f"{match[1]}.{match[2]}"
        return label in ADMIN_OBJECTS or label in GLOBAL_ADMIN_MODELS
    return False


def test_every_route_with_an_id_is_in_the_matrix() -> None:
    uncovered = sorted(route for route in _routes_with_an_id() if not _covered(route))
    assert uncovered == [], "routes with an id the isolation matrix does not cover"
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_OBJECTS) | set(GLOBAL_ADMIN_MODELS)


urlpatterns = [  # the URL configuration of the next test: the project's, and one route more
    *get_resolver("authority.urls").url_patterns,
    path("api/v1/widgets/<str:widget_id>", lambda request, widget_id: None, name="widget"),
]


def test_a_new_route_with_an_id_fails_the_coverage_test(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    with pytest.raises(AssertionError, match="does not cover"):
        test_every_route_with_an_id_is_in_the_matrix()


def test_the_matrix_names_no_route_that_is_gone() -> None:
    routes = set(_routes_with_an_id())
    for table in (API_ROUTES, ADMIN_EXTRA, OAUTH_ROUTES, NO_OBJECT):
        assert set(table) <= routes, set(table) - routes


@pytest.fixture
def globex_world(globex: Owner, member: Any, tenant: Any) -> dict[str, Any]:
    """globex with one object of every kind, made through its own admin's API calls."""
    made = tenant(globex)
    admin_user = made["admin"]
    client = APIClient()
    client.force_login(admin_user)

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(path, body, format="json")
        assert response.status_code == 201, (path, response.content)
        return response.json()

    cid = made["container"].container_id
    session = post("/api/v1/sessions", {"verbs": ["GET"], "container": cid})
    post(f"/api/v1/sessions/{session['id']}/renewal-schedule", {})
    dynamic = post("/api/v1/sessions/dynamic", {"lifetime": 3600})
    receiver = str(OwnerID.from_public_key(SoftwareSigner().public_key()))
    grant = post(
        "/api/v1/bearer-grants",
        {"container": cid, "receiver": receiver, "rules": ["allow get others"]},
    )
    application = ApplicationFactory(user=admin_user)

    access_token = AccessToken.objects.create(
        user=admin_user,
        application=application,
        token="globex-token-" + "x" * 20,
        expires=timezone.now() + dt.timedelta(hours=1),
        scope="authority",
    )
    return {
        "owner": globex,
        "tenant": made,
        "globex_admin": admin_user,
        "container_id": cid,
        "table_id": str(made["table"].public_id),
        "session": session["id"],
        "dynamic": dynamic["id"],
        "grant_id": grant["id"],
        "application": application,
        "access_token": access_token,
    }


def _fill(route: str, values: dict[str, str]) -> str:
    path = route
    for name, value in values.items():
        path = re.sub(r"<(?:\w+:)?" + name + ">", value, path)
    assert "<" not in path, path
    return "/" + path


def _state(world: dict[str, Any]) -> tuple[Any, ...]:
    """What a call must not change: globex's objects as stored."""
    tenant = world["tenant"]
    session = Session.objects.get(pk=world["session"])
    return (
        type(tenant["container"]).objects.filter(pk=tenant["container"].pk).values().first(),
        type(tenant["table"]).objects.filter(pk=tenant["table"].pk).values().first(),
        Session.objects.filter(pk=session.pk).values().first(),
        BearerGrant.objects.filter(pk=world["grant_id"]).values().first(),
        RenewalSchedule.objects.filter(session=session).values().first(),
        Application.objects.filter(pk=world["application"].pk).values().first(),
        AccessToken.objects.filter(pk=world["access_token"].pk).exists(),
    )


def _allowed_methods(pattern: URLPattern) -> list[str]:
    view = pattern.callback
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if cls is None:
        return ["get", "post"]
    return [method for method in API_METHODS if hasattr(cls, method)]


@pytest.fixture
def acme_callers(acme: Owner, member: Any, service_client: Any) -> dict[str, Any]:
    callers: dict[str, Any] = {}
    for role in ROLES:
        client = APIClient()
        client.force_login(member(acme, role))
        callers[f"member:{role.label}"] = client
    callers["service:admin"] = service_client(acme, Role.ADMIN)
    return callers


def _missing(value: str) -> str:
    """An id of the same kind as `value` that names nothing."""
    if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value):
        return str(uuid.uuid4())
    if value.isdigit():
        return "999999999"
    if value == "globex":
        return "no-such-owner"
    return base58.b58encode(secrets.token_bytes(32)).decode()


def _answer(client: Any, method: str, url: str, ids: list[str]) -> tuple[Any, ...]:
    """What a caller learns from a call: the status, the error code, where a redirect goes."""
    response = getattr(client, method)(url, {"name": "stolen", "post": "yes"}, format="json")
    location = response.get("Location", "")
    for value in ids:
        location = location.replace(value, "ID")
    code = None
    if response.get("Content-Type", "").startswith("application/json"):
        code = response.json().get("error")
    return response.status_code, code, location


def test_api_routes_answer_other_owners_objects_as_missing_ones(globex_world, acme_callers):
    """globex's object answers 404, exactly as an id that names nothing (a body the operation
    refuses before any lookup is 400 for both), to every principal of acme."""
    routes = _routes_with_an_id()
    before = _state(globex_world)
    failures = []
    for route, target in API_ROUTES.items():
        values = target(globex_world)
        path = _fill(route, values)
        missing = _fill(route, {name: _missing(value) for name, value in values.items()})
        for method in _allowed_methods(routes[route]):
            for who, client in acme_callers.items():
                found = _answer(client, method, path, [])
                if found != _answer(client, method, missing, []) or found[0] not in (400, 404):
                    failures.append((who, method.upper(), route, found))
    assert failures == [], "\n".join(map(str, failures))
    assert _state(globex_world) == before


def _admin_urls(world: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(route, url of globex's object, url of a missing one, the id) of every admin route with
    an object id."""
    for route in _routes_with_an_id():
        match = ADMIN_OBJECT_ROUTE.match(route)
        if not match:
            continue
        label = f"{match[1]}.{match[2]}"
        factory = ADMIN_OBJECTS.get(label) or GLOBAL_ADMIN_MODELS[label]
        obj = factory(world) if factory else None
        assert obj is not None or label in GLOBAL_ADMIN_MODELS, label
        obj_id = str(obj.pk) if obj is not None else "1"
        yield (
            route,
            _fill(route, {"object_id": obj_id}),
            _fill(route, {"object_id": _missing(obj_id)}),
            obj_id,
        )


_TENANT_MODELS = {tuple(label.split(".")) for label in ADMIN_OBJECTS}


def test_admin_routes_answer_other_owners_objects_as_missing_ones(globex_world, acme, member):
    """For every role: globex's row answers as a row that does not exist (the admin's
    "doesn't exist" redirect, or 403 where the role may not use the page at all), never 200."""
    callers = {}
    for role in ROLES:
        client = APIClient()
        client.force_login(member(acme, role))
        callers[role.label] = client
    before = _state(globex_world)
    failures = []
    for route, url, missing, obj_id in _admin_urls(globex_world):
        for who, client in callers.items():
            for method in ("get", "post"):
                found = _answer(client, method, url, [obj_id])
                absent = _answer(client, method, missing, [missing.split("/")[4]])
                # Global rows (users, OAuth2 records) are no tenant's: members get no page of
                # them (Django's history page looks the row up before it checks permission).
                model = ADMIN_OBJECT_ROUTE.match(route).group(1, 2)  # type: ignore[union-attr]
                is_global = model not in _TENANT_MODELS
                if found[0] not in (302, 403, 404) or (found != absent and not is_global):
                    failures.append((who, method.upper(), url, found, absent))
    for route, (make_url, statuses) in ADMIN_EXTRA.items():
        url = make_url(globex_world)
        for who, client in callers.items():
            status = client.get(url).status_code
            if status not in statuses:
                failures.append((who, "GET", route, status))
            # The action pages' confirmed POST, too: it must change nothing (checked below).
            status = client.post(url, {"confirmed": "yes", "post": "yes"}).status_code
            if status not in statuses | {405}:
                failures.append((who, "POST", route, status))
    assert failures == [], "\n".join(map(str, failures))
    assert _state(globex_world) == before


def test_oauth2_routes_hide_other_users_objects(globex_world, acme, member):
    client = APIClient()
    client.force_login(member(acme, Role.ADMIN))
    before = _state(globex_world)
    failures = []
    for route, make_url in OAUTH_ROUTES.items():
        url = make_url(globex_world)
        for method in ("get", "post"):
            status = getattr(client, method)(url, {"name": "stolen"}).status_code
            if status not in (400, 401, 403, 404, 405):  # never the object, never a change
                failures.append((method.upper(), route, status))
    assert failures == [], "\n".join(map(str, failures))
    assert _state(globex_world) == before
