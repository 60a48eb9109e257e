"""Every decision audited (issue 18): each action's refusal leaves a row with its outcome and
reason, written after the refused request's own work rolled back; verify and introspection
decisions are recorded; the chains verify afterwards."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.core.management import call_command

from authority.models import AuditEvent
from authority.services.audit import (
    AuditAction,
    audit_chain_verify,
    audit_hash,
    audit_seal,
    token_fingerprint,
)
from tests.factories import ContainerFactory

pytestmark = pytest.mark.django_db


def _last(action: AuditAction) -> AuditEvent:
    row = AuditEvent.objects.filter(action=action).order_by("-id").first()
    assert row is not None, f"no {action} row"
    return row


def _assert_refused(
    response: Any, action: AuditAction, status: int, outcome: str, reason: str
) -> AuditEvent:
    assert response.status_code == status, response.content
    row = _last(action)
    assert (row.outcome, row.detail.get("reason")) == (outcome, reason), row.detail
    assert row.request_id == response["X-Request-ID"]
    assert row.detail["status"] == status
    return row


@pytest.fixture(autouse=True)
def chains_verify_afterwards():
    yield
    audit_seal()
    assert audit_chain_verify() == []


def _dynamic(world) -> dict[str, Any]:
    response = world["operator"].post("/api/v1/sessions/dynamic", {"lifetime": 3600}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_issue_refused_by_role_and_for_bad_input(world):
    body = {"verbs": ["GET"], "container": world["container"].container_id}
    refused = world["viewer"].post("/api/v1/sessions", body, format="json")
    row = _assert_refused(refused, AuditAction.SESSION_ISSUE, 403, "denied", "forbidden")
    assert row.actor.startswith("user:") and row.owner_id is None  # the authority's chain
    bad = world["operator"].post("/api/v1/sessions", {**body, "verbs": ["FLY"]}, format="json")
    row = _assert_refused(bad, AuditAction.SESSION_ISSUE, 400, "invalid", "invalid")
    assert row.detail["fields"] == ["verbs"]


def test_issue_of_another_owners_container_is_a_denied_not_found(world):
    body = {"verbs": ["GET"], "container": world["globex_container"].container_id}
    refused = world["operator"].post("/api/v1/sessions", body, format="json")
    _assert_refused(refused, AuditAction.SESSION_ISSUE, 404, "denied", "not_found")


def test_trade_refusal_carries_the_tokens_fingerprint_never_the_token(world, issue):
    session = issue()
    forged = session["token"][:-4] + ("AAAA" if not session["token"].endswith("AAAA") else "BBBB")
    refused = world["anonymous"].post("/api/v1/trade", {"subject_token": forged}, format="json")
    row = _assert_refused(refused, AuditAction.SESSION_TRADE, 401, "denied", "invalid_token")
    assert row.token_fingerprint == token_fingerprint(forged)
    assert forged not in json.dumps(row.detail) and row.actor == "anonymous"
    assert audit_hash(token=forged)[0].value == row.token_fingerprint


def test_trade_of_a_cancelled_session_is_refused_and_audited(world, issue):
    session = issue()
    cancelled = world["operator"].post(f"/api/v1/sessions/{session['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.content
    refused = world["anonymous"].post(
        "/api/v1/trade", {"subject_token": session["token"]}, format="json"
    )
    assert refused.status_code >= 400
    row = _last(AuditAction.SESSION_TRADE)
    assert row.outcome == "denied" and row.detail["reason"] == refused.json()["error"]


def test_exchange_refusals(world, issue):
    wrong_grant = world["anonymous"].post("/api/v1/token", {"grant_type": "password"})
    _assert_refused(
        wrong_grant, AuditAction.SESSION_EXCHANGE, 400, "invalid", "unsupported_grant_type"
    )
    session = issue()
    forged = session["token"] + "x"
    refused = world["anonymous"].post(
        "/api/v1/token",
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": forged,
            "subject_token_type": "urn:session-authority:params:oauth:token-type:delegation",
        },
    )
    assert refused.status_code == 400, refused.content
    row = _last(AuditAction.SESSION_EXCHANGE)
    assert row.detail["reason"] in {"invalid_grant", "invalid_request"}
    assert row.outcome == ("denied" if row.detail["reason"] == "invalid_grant" else "invalid")


def test_renew_refused_for_another_renewer_and_unknown_session(world, issue):
    session = issue()
    refused = world["other_operator"].post(f"/api/v1/sessions/{session['id']}/renew")
    row = _assert_refused(refused, AuditAction.SESSION_RENEW, 403, "denied", "forbidden")
    assert row.object_id == session["id"]
    foreign = world["globex_service"].post(f"/api/v1/sessions/{session['id']}/renew")
    _assert_refused(foreign, AuditAction.SESSION_RENEW, 404, "denied", "not_found")


def test_cancel_refused(world, issue):
    session = issue()
    refused = world["viewer"].post(f"/api/v1/sessions/{session['id']}/cancel")
    _assert_refused(refused, AuditAction.SESSION_CANCEL, 403, "denied", "forbidden")
    foreign = world["globex_service"].post(f"/api/v1/sessions/{session['id']}/cancel")
    _assert_refused(foreign, AuditAction.SESSION_CANCEL, 404, "denied", "not_found")


def test_sign_and_complete_refused(world, issue):
    static = issue()
    sign = world["operator"].post(
        f"/api/v1/sessions/{static['id']}/sign",
        {"data": base64.b64encode(b"x").decode(), "verb": "PUT",
         "container": world["container"].container_id},
        format="json",
    )  # fmt: skip
    assert sign.status_code in (404, 409), sign.content
    row = _last(AuditAction.SESSION_SIGN)
    assert row.outcome == "denied" and row.detail["reason"] == sign.json()["error"]
    created = _dynamic(world)
    complete = world["operator"].post(
        f"/api/v1/sessions/{created['id']}/complete", {"token": "not base64!"}, format="json"
    )
    _assert_refused(complete, AuditAction.SESSION_COMPLETE, 400, "invalid", "invalid")


def test_import_refused(world):
    refused = world["operator"].post(
        "/api/v1/sessions/import", {"token": base64.b64encode(b"junk").decode()}, format="json"
    )
    _assert_refused(refused, AuditAction.SESSION_IMPORT, 400, "invalid", "invalid")


def test_bearer_grant_issue_and_revoke_refused(world):
    foreign = world["operator"].post(
        "/api/v1/bearer-grants",
        {"container": world["globex_container"].container_id, "rules": ["deny get others"]},
        format="json",
    )
    _assert_refused(foreign, AuditAction.BEARER_GRANT_ISSUE, 404, "denied", "not_found")
    granted = world["operator"].post(
        "/api/v1/bearer-grants",
        {"container": world["container"].container_id, "rules": ["deny get others"]},
        format="json",
    )
    assert granted.status_code == 201, granted.content
    grant_id = granted.json()["id"]
    refused = world["globex_service"].post(f"/api/v1/bearer-grants/{grant_id}/revoke")
    row = _assert_refused(refused, AuditAction.BEARER_GRANT_REVOKE, 404, "denied", "not_found")
    assert row.object_id == str(grant_id)


def test_revoke_and_introspect_refused_without_credentials(world, issue):
    session = issue()
    revoke = world["anonymous"].post("/api/v1/revoke", {"token": session["token"]})
    row = _assert_refused(revoke, AuditAction.ACCESS_TOKEN_REVOKE, 401, "denied", "auth_missing")
    assert row.token_fingerprint in ("", token_fingerprint(session["token"]))
    introspect = world["anonymous"].post("/api/v1/introspect", {"token": session["token"]})
    _assert_refused(introspect, AuditAction.ACCESS_TOKEN_INTROSPECT, 401, "denied", "auth_missing")


def test_introspection_decisions_are_audited(world, issue, settings):
    settings.AUTHORITY = {**settings.AUTHORITY, "AUDIT_DECISION_BATCH": 1}  # each row at once
    session = issue()
    active = world["service"].post("/api/v1/introspect", {"token": session["token"]})
    assert active.json()["active"] is True
    row = _last(AuditAction.ACCESS_TOKEN_INTROSPECT)
    assert (row.outcome, row.object_id, row.owner_id) == (
        "success",
        session["id"],
        world["acme"].pk,
    )
    assert row.token_fingerprint == token_fingerprint(session["token"])
    foreign = world["globex_service"].post("/api/v1/introspect", {"token": session["token"]})
    assert foreign.json() == {"active": False}
    row = _last(AuditAction.ACCESS_TOKEN_INTROSPECT)
    assert (row.outcome, row.detail["reason"], row.owner_id) == ("denied", "inactive", None)


def test_verify_decisions_are_audited_deny_always(world, settings):
    settings.AUTHORITY = {**settings.AUTHORITY, "AUDIT_DECISION_BATCH": 1}  # each row at once
    container = world["container"].container_id
    allowed = world["service"].post(
        "/api/v1/verify", {"verb": "GET", "container": container}, format="json"
    )
    assert allowed.status_code == 200, allowed.content
    decision = allowed.json()
    row = _last(AuditAction.REQUEST_VERIFY)
    assert row.owner_id == world["acme"].pk and row.object_id == container
    expected = "success" if decision["decision"] == "allow" else "denied"
    assert row.outcome == expected and row.actor.startswith("app:")
    # With sampling of allowed decisions at 0, denials are still every one recorded.
    settings.AUTHORITY = {
        **settings.AUTHORITY,
        "AUDIT_VERIFY_SAMPLE": 0.0,
        "AUDIT_DECISION_BATCH": 1,
    }
    before = AuditEvent.objects.filter(action=AuditAction.REQUEST_VERIFY).count()
    denied = world["service"].post(
        "/api/v1/verify",
        {"verb": "GET", "container": container, "bearer_token": "bm90IGEgdG9rZW4="},
        format="json",
    )
    assert denied.status_code in (200, 400), denied.content
    after = AuditEvent.objects.filter(action=AuditAction.REQUEST_VERIFY)
    assert after.count() == before + 1
    newest = after.order_by("-id").first()
    assert newest.outcome in ("denied", "invalid")
    if decision["decision"] == "allow":
        world["service"].post(
            "/api/v1/verify", {"verb": "GET", "container": container}, format="json"
        )
        assert after.count() == before + 1  # the allowed one was not sampled


def test_verify_of_another_owners_container_is_refused_and_audited(world):
    refused = world["service"].post(
        "/api/v1/verify",
        {"verb": "GET", "container": world["globex_container"].container_id},
        format="json",
    )
    _assert_refused(refused, AuditAction.REQUEST_VERIFY, 404, "denied", "not_found")


@pytest.mark.django_db(transaction=True)
def test_a_refusal_survives_its_requests_rolled_back_transaction(world, issue):
    """A renewal of a cancelled session fails inside the service's transaction (after locking
    the session), which rolls back; the refusal's row, written after, stays (no test
    transaction around it here: what is asserted is committed)."""
    session = issue()
    assert world["operator"].post(f"/api/v1/sessions/{session['id']}/cancel").status_code == 200
    again = world["operator"].post(f"/api/v1/sessions/{session['id']}/renew")
    row = _assert_refused(again, AuditAction.SESSION_RENEW, 409, "denied", "conflict")
    assert row.object_id == session["id"]


def test_audit_hash_command_prints_the_fingerprint(capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("sa1.some.token\n"))
    call_command("audit_hash")
    assert capsys.readouterr().out.strip() == token_fingerprint("sa1.some.token")
    call_command("audit_hash", "sa1.some.token", "--all-keys")
    assert token_fingerprint("sa1.some.token") in capsys.readouterr().out


def test_allowed_verify_decisions_are_written_in_batches_denials_at_once(world, settings):
    settings.AUTHORITY = {**settings.AUTHORITY, "AUDIT_DECISION_BATCH": 3}
    container = ContainerFactory(owner=world["acme"])  # no eACL table: GET is allowed
    verified = AuditEvent.objects.filter(action=AuditAction.REQUEST_VERIFY)

    def verify(**body):
        response = world["service"].post(
            "/api/v1/verify",
            {"verb": "GET", "container": container.container_id, **body},
            format="json",
        )
        assert response.status_code == 200, response.content
        return response.json()["decision"]

    assert [verify(), verify()] == ["allow", "allow"]
    assert verified.count() == 0  # waiting in this process
    denied = verify(requester_account="NbUgTSFvPmsRxmGeWpuuGeJUoRoi6PErcM")
    if denied == "deny":
        assert list(verified.values_list("outcome", flat=True)) == ["denied"]  # at once
    assert verify() == "allow"  # the third allowed one: the batch is written
    outcomes = sorted(verified.values_list("outcome", flat=True))
    assert outcomes.count("success") == 3
    rows = list(verified.filter(outcome="success").order_by("id"))
    assert len({row.request_id for row in rows}) == 3  # each its own request's id, made then
    assert all(row.actor.startswith("app:") and row.owner_id == world["acme"].pk for row in rows)


def test_active_introspections_are_written_in_batches_inactive_at_once(world, issue, settings):
    settings.AUTHORITY = {**settings.AUTHORITY, "AUDIT_DECISION_BATCH": 3}
    session = issue()
    introspected = AuditEvent.objects.filter(action=AuditAction.ACCESS_TOKEN_INTROSPECT)

    def introspect(token):
        response = world["service"].post("/api/v1/introspect", {"token": token})
        assert response.status_code == 200, response.content
        return response.json()["active"]

    assert [introspect(session["token"]), introspect(session["token"])] == [True, True]
    assert introspected.count() == 0  # waiting in this process
    assert introspect("sa1.not-a-token") is False
    assert list(introspected.values_list("outcome", flat=True)) == ["denied"]  # at once
    assert introspect(session["token"]) is True  # the third active one: the batch is written
    outcomes = sorted(introspected.values_list("outcome", flat=True))
    assert outcomes == ["denied", "success", "success", "success"]
