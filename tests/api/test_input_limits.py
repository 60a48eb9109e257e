"""Bad input is refused at the edge, before any costly work (issue 17): over-long ids, JSON
nested 1,000 deep, NUL bytes, 10 MB bodies. Each answers 4xx with the JSON error body, in
production mode too. Speed is asserted only as a generous sanity bound; benchmarks/ prints the
real figures."""

from __future__ import annotations

import json
import time

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from authority.api.parsers import MAX_JSON_DEPTH, check_parsed
from authority.models import Role
from tests.factories import ContainerFactory
from tokens.wire.errors import WireError
from tokens.wire.ids import ContainerID, OwnerID, decode_base58

pytestmark = pytest.mark.django_db

LONG_ID = "2" * 200_000  # valid base58 characters: only its length is wrong


def _nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False


@pytest.fixture
def admin_client(acme, member, user_client):
    client = user_client(member(acme, Role.ADMIN))
    client.raise_request_exception = False
    return client


def test_an_over_long_base58_id_is_refused_before_decoding():
    started = time.perf_counter()
    for decode in (
        lambda: decode_base58(LONG_ID, "container_id", 32),
        lambda: ContainerID.from_string(LONG_ID, "container"),
        lambda: OwnerID.from_string(LONG_ID, "receiver"),
    ):
        with pytest.raises(WireError, match="too long"):
            decode()
    assert time.perf_counter() - started < 1.0  # was ~40 s of CPU each (quadratic decoding)


def test_the_longest_ids_still_decode():
    widest = ContainerID(b"\xff" * 32)
    assert ContainerID.from_string(str(widest), "c") == widest
    zeros = ContainerID(b"\x00" * 32)
    assert ContainerID.from_string(str(zeros), "c") == zeros


def test_200000_character_ids_in_paths_queries_and_bodies_are_answered_at_once(
    acme, admin_client, production
):
    container = ContainerFactory(owner=acme).container_id
    calls = {
        "path": lambda: admin_client.get(f"/api/v1/containers/{LONG_ID}"),
        "query": lambda: admin_client.get(f"/api/v1/sessions?container={LONG_ID}"),
        "body container": lambda: admin_client.post(
            "/api/v1/containers", {"name": "c", "container_id": LONG_ID}, format="json"
        ),
        "body receiver": lambda: admin_client.post(
            "/api/v1/bearer-grants",
            {"container": container, "receiver": LONG_ID, "rules": ["allow get others"]},
            format="json",
        ),
        "session path": lambda: admin_client.get(f"/api/v1/sessions/{LONG_ID}"),
    }
    answers, slowest = {}, 0.0
    for name, call in calls.items():
        started = time.perf_counter()
        answers[name] = call().status_code
        slowest = max(slowest, time.perf_counter() - started)
    assert answers == {
        "path": 404,
        "query": 400,
        "body container": 400,
        "body receiver": 400,
        "session path": 404,
    }
    # A sanity bound only (the old code took ~40 s of CPU per id); make bench-limits prints the
    # real figures (a few milliseconds).
    assert slowest < 2.0


def _json_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in ("post", "put", "patch") and "requestBody" in operation:
                yield path, method  # operations that take a body (logout, say, takes none)


def _with_ids(template: str, acme) -> str:
    """Path parameters filled with ids that exist, so that each view gets as far as its body."""
    container = ContainerFactory(owner=acme)
    values = {"slug": acme.slug, "container_id": container.container_id}
    for part in template.split("{")[1:]:
        name = part.partition("}")[0]
        template = template.replace("{" + name + "}", values.get(name, "x"))
    return template


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_deep_is_400_on_every_json_endpoint(acme, admin_client, production, depth):
    anonymous = APIClient(raise_request_exception=False)
    answers = {}
    for template, method in _json_operations():
        path = _with_ids(template, acme)
        response = getattr(admin_client, method)(
            path, data=_nested(depth), content_type="application/json"
        )
        answers[(method, template)] = response.status_code
        assert response.status_code < 500, (method, path, response.content[:200])
    assert answers[("post", "/api/v1/trade")] == 400
    assert answers[("post", "/api/v1/containers")] == 400
    # Every operation that reads its body answers 400; some refuse the caller first (404, 403).
    body_readers = {key: status for key, status in answers.items() if status not in (403, 404)}
    assert set(body_readers.values()) == {400}, {k: v for k, v in body_readers.items() if v != 400}
    for unauthenticated in ("/api/v1/trade", "/api/v1/token", "/api/v1/auth/login"):
        response = anonymous.post(
            unauthenticated, data=_nested(depth), content_type="application/json"
        )
        assert response.status_code == 400, (unauthenticated, response.content[:200])
        assert response.json()["error"] == "malformed"


def test_json_depth_is_bounded_and_real_inputs_fit():
    check_parsed(json.loads(_nested(MAX_JSON_DEPTH)))
    with pytest.raises(Exception, match="nested deeper"):
        check_parsed(json.loads(_nested(MAX_JSON_DEPTH + 1)))
    with pytest.raises(Exception, match="nested deeper"):
        check_parsed({"a": json.loads(_nested(MAX_JSON_DEPTH))})


def test_nul_bytes_in_queries_paths_json_and_forms_are_400(acme, admin_client, production):
    anonymous = APIClient(raise_request_exception=False)
    responses = [
        admin_client.get("/api/v1/sessions?renewer=%00"),
        admin_client.get("/api/v1/sessions?state=active&renewer=a%00b"),
        admin_client.get("/api/v1/owners/acme%00"),
        admin_client.get("/admin/authority/container/?q=%00"),
        admin_client.post("/api/v1/containers", {"name": "a\x00b"}, format="json"),
        admin_client.post("/api/v1/containers", {"na\x00me": "ab"}, format="json"),
        anonymous.post("/api/v1/trade", {"subject_token": "sa1.\x00"}, format="json"),
        anonymous.post(
            "/api/v1/token",
            "grant_type=x&subject_token=%00",
            content_type="application/x-www-form-urlencoded",
        ),
        anonymous.post(
            "/o/token/",
            "grant_type=client_credentials&client_id=%00&client_secret=x",
            content_type="application/x-www-form-urlencoded",
        ),
    ]
    assert [response.status_code for response in responses] == [400] * len(responses)
    assert all(response.json()["error"] in ("invalid", "malformed") for response in responses)


def test_a_10_mb_body_is_413_before_it_is_read(acme, admin_client, production):
    anonymous = APIClient(raise_request_exception=False)
    body = b'{"subject_token": "' + b"x" * 10_000_000 + b'"}'
    for client, path, content_type in [
        (anonymous, "/api/v1/trade", "application/json"),
        (anonymous, "/api/v1/token", "application/x-www-form-urlencoded"),
        (anonymous, "/o/token/", "application/x-www-form-urlencoded"),
        (admin_client, "/api/v1/eacl-tables", "application/json"),
        (admin_client, "/admin/login/", "application/x-www-form-urlencoded"),
    ]:
        started = time.perf_counter()
        response = client.post(path, data=body, content_type=content_type)
        assert time.perf_counter() - started < 2.0  # a sanity bound: nothing of it was read
        assert response.status_code == 413, (path, response.status_code)
        assert response.json()["error"] == "too_large"


def test_a_body_under_the_limit_still_works(acme, admin_client):
    rules = [f"deny get obj:Name=object-{index} others" for index in range(1000)]
    response = admin_client.post(
        "/api/v1/eacl-tables", {"name": "big", "rules": rules}, format="json"
    )
    assert response.status_code == 201, response.content[:300]


def test_a_page_holds_at_most_500_rows_and_a_larger_limit_is_refused(acme, admin_client):
    from authority.models import Container

    Container.objects.bulk_create(
        ContainerFactory.build(owner=acme, cid=index.to_bytes(32, "big")) for index in range(501)
    )
    refused = admin_client.get("/api/v1/containers?limit=10000000")
    assert refused.status_code == 400 and "limit" in refused.content.decode()
    page = admin_client.get("/api/v1/containers?limit=500").json()
    assert page["count"] == 501 and len(page["results"]) == 500


def test_verify_headers_are_bounded_before_any_entry_is_validated(acme, admin_client):
    container = ContainerFactory(owner=acme).container_id

    def verify(**headers):
        body = {"verb": "GET", "container": container, **headers}
        return admin_client.post("/api/v1/verify", body, format="json")

    for field in ("request_headers", "object_headers"):
        many = verify(**{field: {f"h{i}": "v" for i in range(257)}})
        assert many.status_code == 400 and field in json.dumps(many.json()), many.content
        long_name = verify(**{field: {"n" * 257: "v"}})
        assert long_name.status_code == 400, long_name.content
        long_value = verify(**{field: {"Project": "v" * 4097}})
        assert long_value.status_code == 400, long_value.content
        fitting = verify(**{field: {f"h{i}": "v" * 64 for i in range(256)}})
        assert fitting.status_code == 200, fitting.content
