"""Two gunicorn nodes on one database and one Redis: a cancel on one stops trades on the other at
its next request; the trade throttle is one budget across the nodes; an access-token key rotated
while both run signs on each and verifies on the other within KEY_TTL (authority.caches)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from authority.caches import KEY_TTL
from tests.integration import nodes

pytestmark = pytest.mark.slow

_ROTATE = """
from hsm.models import KeyPurpose
from hsm.services import key_rotate
print(key_rotate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING).label)
"""


def _kid(access_token: str) -> str:
    header = access_token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: Any, softhsm_token: dict[str, str]):
    tmp: Path = tmp_path_factory.mktemp("two-nodes")
    database = nodes.database_url(tmp, "nodes")
    with nodes.redis_server():
        env = nodes.environment(
            tmp=tmp,
            database=database,
            redis=f"redis://127.0.0.1:{nodes.REDIS_PORT}/0",
            broker=f"redis://127.0.0.1:{nodes.REDIS_PORT}/1",
            hsm=softhsm_token,
        )
        env["THROTTLE_TRADE"] = "30/minute"  # the throttle test spends it; it runs last
        facts = nodes.bootstrap(env)
        with (
            nodes.node(env, nodes.NODE_PORTS[0]) as a,
            nodes.node(env, nodes.NODE_PORTS[1]) as b,
        ):
            yield {"a": a, "b": b, "env": env, "token": nodes.client_token(a), **facts}


def _issue(cluster: dict[str, Any]) -> dict[str, Any]:
    body = {"verbs": ["GET"], "container": cluster["container"]}
    status, _, issued, _ = cluster["a"].call("POST", "/api/v1/sessions", body, cluster["token"])
    assert status == 201, issued
    return issued


def _trade(server: nodes.Node, subject: str) -> tuple[int, Any]:
    status, _, body, _ = server.call("POST", "/api/v1/trade", {"subject_token": subject})
    return status, body


def test_cancel_on_one_node_stops_trades_on_the_other_at_once(cluster):
    issued = _issue(cluster)
    assert _trade(cluster["b"], issued["token"])[0] == 200  # b has it cached now
    status, _, body, _ = cluster["a"].call(
        "POST", f"/api/v1/sessions/{issued['id']}/cancel", {}, cluster["token"]
    )
    assert status == 200, body
    status, body = _trade(cluster["b"], issued["token"])
    assert (status, body["error"]) == (409, "conflict"), body  # "The session is cancelled."


def test_a_rotated_key_signs_and_verifies_on_both_nodes_within_key_ttl(cluster):
    issued = _issue(cluster)
    status, body = _trade(cluster["b"], issued["token"])
    assert status == 200, body
    old_kid = _kid(body["access_token"])
    nodes.manage(cluster["env"], "shell", "--no-imports", stdin=_ROTATE)  # a third process
    deadline = time.monotonic() + KEY_TTL + 5
    while True:
        status, body = _trade(cluster["b"], issued["token"])
        assert status in (200, 429), body
        if status == 200 and _kid(body["access_token"]) != old_kid:
            break
        assert time.monotonic() < deadline, "node b still signs with the retired key"
        time.sleep(2)
    # Signed by b with the new key: a's JWKS publishes it and a's introspection accepts it.
    new_kid = _kid(body["access_token"])
    status, _, jwks, _ = cluster["a"].call("GET", "/.well-known/jwks.json")
    assert new_kid in {key["kid"] for key in jwks["keys"]}
    assert old_kid in {key["kid"] for key in jwks["keys"]}  # retired keys keep verifying
    status, _, answer, _ = cluster["a"].call(
        "POST", "/api/v1/introspect", {"token": body["access_token"]}, cluster["token"]
    )
    assert status == 200 and answer["active"] is True, answer


def test_the_trade_throttle_is_one_budget_across_nodes(cluster):
    issued = _issue(cluster)
    answers = []
    for index in range(34):
        server = cluster["a"] if index % 2 == 0 else cluster["b"]
        answers.append(_trade(server, issued["token"])[0])
    # 30 a minute in all (both nodes share Redis; the earlier tests spent a few): the rest are
    # refused, on whichever node.
    assert answers.count(200) <= 30, answers
    assert answers[-4:] == [429] * 4, answers


def test_a_cancel_on_one_node_ends_decisions_remembered_on_the_other_at_once(cluster):
    """Node b remembers the rows of its decisions (authority.state_changes); a cancel committed
    on node a is heard by b before a answers, so b's very next decision is a denial. Twenty
    rounds, each a fresh session, to give a lost announcement room to show."""
    remembered_before = _remembered(cluster["b"])
    for _ in range(20):
        issued = _issue(cluster)
        status, body = _trade(cluster["b"], issued["token"])
        assert status == 200, body
        verify = {
            "verb": "GET",
            "container": cluster["container"],
            "access_token": body["access_token"],
        }
        introspect = {"token": body["access_token"]}
        for _ in range(2):  # the second from b's memory
            status, _, answer, _ = cluster["b"].call(
                "POST", "/api/v1/verify", verify, cluster["token"]
            )
            assert (status, answer["decision"]) == (200, "allow"), answer
            status, _, answer, _ = cluster["b"].call(
                "POST", "/api/v1/introspect", introspect, cluster["token"]
            )
            assert answer["active"] is True, answer
        status, _, answer, _ = cluster["a"].call(
            "POST", f"/api/v1/sessions/{issued['id']}/cancel", {}, cluster["token"]
        )
        assert status == 200, answer
        status, _, answer, _ = cluster["b"].call("POST", "/api/v1/verify", verify, cluster["token"])
        assert (status, answer["reason"]) == (200, "revoked"), answer
        status, _, answer, _ = cluster["b"].call(
            "POST", "/api/v1/introspect", introspect, cluster["token"]
        )
        assert answer == {"active": False}, answer
    # b answered the repeated decisions from memory (one row each), so the test tested it
    assert _remembered(cluster["b"]) - remembered_before >= 40


def _remembered(server: nodes.Node) -> float:
    status, _, text, _ = server.call("GET", "/metrics")  # from loopback: allowed
    assert status == 200, text
    for line in str(text).splitlines():
        if line.startswith('authority_decision_rows_total{source="memory"}'):
            return float(line.split()[-1])
    return 0.0
