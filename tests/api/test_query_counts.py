"""Queries per request on the hot paths (verify, trade, introspect) and on the session lifecycle
and the main lists: a count that grows with the data (an N+1) or creeps up with a change fails
here, as Zulip's and NetBox's query-count tests do.

The counts are the same on SQLite and PostgreSQL: both run the services' transactions as
savepoints inside the test's transaction (SAVEPOINT and RELEASE are counted), and the trade's
one statement is one query on either. Every request authenticates with an OAuth2 access token of
a service account, validated by its first request and then remembered in the process
(authority.caches, `oauth2_principals`): no query in any figure below.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from rest_framework.test import APIClient

from authority.models import Owner, Role
from authority.principals import Principal
from authority.services.containers import container_update
from authority.services.eacl_tables import eacl_table_create
from tests.factories import ContainerFactory
from tokens.wire import eacl as wire
from tokens.wire.eacl_rules import parse_rules
from tokens.wire.signature import SoftwareSigner

pytestmark = pytest.mark.django_db

PARTY = SoftwareSigner()


@pytest.fixture
def ws(acme: Owner, member: Any, service_client: Any) -> SimpleNamespace:
    """A workspace of acme: its admin, a container, a service account's client (its token
    validated once, as any client's first request does)."""
    workspace = SimpleNamespace(
        owner=acme,
        admin=Principal(user=member(acme, Role.ADMIN)),
        container=ContainerFactory(owner=acme),
        client=service_client(acme, Role.OPERATOR),
        anonymous=APIClient(),
    )
    assert workspace.client.get("/api/v1/owners").status_code == 200
    return workspace


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.content
    return response.json() if response.content else None


def _stored_table(ws: SimpleNamespace, records: int, *, container: Any = None) -> Any:
    """Binds to the container a stored table of `records` records; the last one denies
    `Project=last`, so a decision on that header walks the whole table."""
    container = container or ws.container
    rules = [f"deny get obj:Project=p{i} others" for i in range(records - 1)]
    rules.append("deny get obj:Project=last others")
    table = eacl_table_create(
        actor=ws.admin, owner=ws.owner, name=f"table-{records}", container=container,
        table=wire.Table(container_id=None, records=parse_rules("\n".join(rules))),
    )  # fmt: skip
    container_update(actor=ws.admin, container=container, changes={"eacl_table": table})
    return table


def _verify(ws: SimpleNamespace, **body: Any) -> Any:
    payload = {"verb": "GET", "container": ws.container.container_id, **body}
    return _ok(ws.client.post("/api/v1/verify", payload, format="json"))


def _issue(ws: SimpleNamespace, **body: Any) -> Any:
    payload = {"verbs": ["GET", "HEAD"], "container": ws.container.container_id, **body}
    return _ok(ws.client.post("/api/v1/sessions", payload, format="json"))


def _grant(ws: SimpleNamespace, rule: str = "deny get others") -> Any:
    payload = {"container": ws.container.container_id, "rules": [rule]}
    return _ok(ws.client.post("/api/v1/bearer-grants", payload, format="json"))


def _trade(ws: SimpleNamespace, token: str) -> Any:
    return _ok(ws.anonymous.post("/api/v1/trade", {"subject_token": token}, format="json"))


@pytest.mark.parametrize("records", [1, 200])
def test_verify_spends_the_same_queries_whatever_the_size_of_the_stored_table(
    ws, records, django_assert_num_queries
):
    _stored_table(ws, records)
    asked = {"object_headers": {"Project": "last"}}
    # container with its owner and table; the table's container, records, filters, targets —
    # the conversion, once per version of the table in this process; the denial's audit row
    # (an allowed decision's waits for its batch).
    with django_assert_num_queries(6):
        first = _verify(ws, **asked)
    with django_assert_num_queries(2):  # container with its owner and table; the audit row
        again = _verify(ws, **asked)
    assert first == again
    assert first["reason"] == "eacl_deny" and first["record"]["index"] == records - 1


def test_verify_of_a_table_edited_through_the_api_converts_it_once_again(
    ws, django_assert_num_queries
):
    table = _stored_table(ws, 3)
    assert _verify(ws, object_headers={"Project": "last"})["decision"] == "deny"
    edited = ws.client.patch(
        f"/api/v1/eacl-tables/{table.public_id}", {"rules": ["allow get others"]}, format="json"
    )
    assert edited.status_code == 200, edited.content
    with django_assert_num_queries(5):
        assert _verify(ws, object_headers={"Project": "last"})["decision"] == "allow"


def test_verify_with_a_session_and_a_bearer_token(ws, django_assert_num_queries):
    session = _issue(ws, kind="static", verbs=["GET"], session_key=PARTY.public_key().hex())
    bearer = _grant(ws, "deny get user")  # the session's issuer, the owner, is the user
    asked = {
        "session_token": session["neofs_token"]["binary"],
        "bearer_token": bearer["token"]["binary"],
        "requester_key": PARTY.public_key().hex(),
    }
    # container, with the recorded session's state and the bearer grant's revocation in the
    # same statement (tokens.services.verify.container_for_verify); the denial's audit row
    with django_assert_num_queries(2):
        decision = _verify(ws, **asked)
    assert decision["reason"] == "eacl_deny"  # the bearer's table, not the container's


def test_trade_spends_two_queries_for_a_session_and_one_on_repeat(ws, django_assert_num_queries):
    _trade(ws, _issue(ws)["token"])  # the authority's signing key made and cached
    token = _issue(ws)["token"]
    with django_assert_num_queries(2):  # the session read in one statement; the audit row
        first = _trade(ws, token)
    with django_assert_num_queries(1):  # the audit row, inserted only if the session is active
        assert _trade(ws, token)["access_token"] == first["access_token"]


def test_introspection_spends_one_query(ws, django_assert_num_queries, settings):
    settings.AUTHORITY = {**settings.AUTHORITY, "AUDIT_DECISION_BATCH": 3}
    session = _issue(ws)
    access = _trade(ws, session["token"])["access_token"]
    # the verifying key (then cached); the session — an active token's audit row waits for its
    # batch (tokens/services/decision_audit.py)
    with django_assert_num_queries(2):
        assert _ok(ws.client.post("/api/v1/introspect", {"token": access}))["active"] is True
    with django_assert_num_queries(1):  # the session, with the access token's revocation
        assert _ok(ws.client.post("/api/v1/introspect", {"token": access}))["active"] is True
    # the session; the batch of three rows in one INSERT, in a transaction of its own (here a
    # savepoint and its release, inside the test's transaction)
    with django_assert_num_queries(4):
        assert _ok(ws.client.post("/api/v1/introspect", {"token": session["token"]}))["active"]


def test_issue_renew_and_cancel(ws, django_assert_num_queries):
    _issue(ws)  # the owner's delegation key made on the first issue, and cached
    # container; savepoint; role; session; audit row; release
    with django_assert_num_queries(6):
        session = _issue(ws)
    # session; savepoint; session locked; update; audit row; release; the renewer application
    # for the answer
    with django_assert_num_queries(7):
        _ok(ws.client.post(f"/api/v1/sessions/{session['id']}/renew"))
    # as renew, and the session's renewal schedules stopped
    with django_assert_num_queries(8):
        cancelled = _ok(ws.client.post(f"/api/v1/sessions/{session['id']}/cancel"))
    assert cancelled["state"] == "cancelled"


LISTS = {
    # count; page — with owner and table joined
    "containers": 2,
    # count; page; records, filters, targets of the page's tables
    "eacl-tables": 5,
    # count; page — with owner and renewer joined
    "sessions": 2,
    # count; page — with owner joined
    "bearer-grants": 2,
}


@pytest.mark.parametrize("rows", [1, 20])
@pytest.mark.parametrize("path", list(LISTS))
def test_lists_spend_the_same_queries_for_1_and_20_rows(ws, path, rows, django_assert_num_queries):
    for number in range(rows):
        container = ws.container if number == 0 else ContainerFactory(owner=ws.owner)
        if path == "eacl-tables":
            _stored_table(ws, 2, container=container)
        elif path == "sessions":
            _issue(ws, container=container.container_id)
        elif path == "bearer-grants":
            _grant(ws)
    with django_assert_num_queries(LISTS[path]):
        listed = _ok(ws.client.get(f"/api/v1/{path}"))
    assert listed["count"] == rows


def test_verify_with_an_access_token_and_a_bearer_token(ws, django_assert_num_queries):
    ws.container.basic_acl = 0x0FBFBFFF  # eacl-public-read-write: the bearer's table applies
    ws.container.save()
    access = _trade(ws, _issue(ws)["token"])["access_token"]
    bearer = _grant(ws, "deny get user")  # the access token stands for the owner: USER
    asked = {"access_token": access, "bearer_token": bearer["token"]["binary"]}
    _verify(ws, **asked)  # the verifying key read once, then cached
    # container, with the access token's session and revocation and the bearer grant's
    # revocation in the same statement (the service account's OAuth2 token is remembered since
    # the warm-up request); the denial's audit row
    with django_assert_num_queries(2):
        decision = _verify(ws, **asked)
    assert decision["reason"] == "eacl_deny"


@pytest.mark.parametrize("bits", [0x1C8C8CCC, 0x0FBFBFFF])
def test_verify_by_the_basic_acl_alone_spends_no_more(ws, bits, django_assert_num_queries):
    ws.container.basic_acl = bits
    ws.container.save()
    stranger = PARTY.public_key().hex()
    denied = bits == 0x1C8C8CCC  # private: a denial's audit row is written at once
    with django_assert_num_queries(1 + denied):  # container with its owner (and table: none)
        _verify(ws, requester_key=stranger)
