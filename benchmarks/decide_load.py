"""The decision point under load: gunicorn (2 workers) on PostgreSQL and Redis, driven by wrk at 16
connections, as `bench-trade` serves the app. In one run, alternating rounds of four endpoints:

- trivial:    `GET /api/v1/epoch` (DRF, no authentication)
- trade:      `POST /api/v1/trade` of a delegation token
- introspect: `POST /api/v1/introspect` of an access token, by a service account (OAuth2)
- verify:     `POST /api/v1/verify` of a GET with a bearer token, on a container whose stored eACL
              table (and the bearer token's) has 20 records, walked to the last one, which denies
              (a denial: its audit row written at once)
- verify-allow: the same with an object no record matches: all 20 walked, allowed (its audit
              row batched, tokens/services/decision_audit.py)

Prints requests/s, p50 and p99 of each (medians of BENCH_ROUNDS rounds of BENCH_SECONDS) and each
ratio to trivial (targets: trade ≥ 0.5, introspect ≥ 0.5, verify ≥ 0.4, p99 ≤ 50 ms).

    make bench-decide     (needs PostgreSQL and Redis on 127.0.0.1, and Debian's wrk)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import trade_load  # noqa: E402
from trade_load import ROOT, _medians, environment, fresh_database, server_pids, wait_for, wrk  # noqa: E402

DATABASE = "sa_bench_decide"
PORT = 8861
DURATION = int(os.environ.get("BENCH_SECONDS", "4"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))  # five: this machine swings run to run
RECORDS = 20

PREPARE = """
import datetime as dt, json, secrets
from django.contrib.auth import get_user_model
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from authority.models import Owner, Role
from authority.principals import SYSTEM, Principal
from authority.services.containers import container_create, container_update
from authority.services.eacl_tables import eacl_table_create
from authority.services.owners import membership_set, owner_create
from tokens.models import SessionContext, SessionKind
from tokens.services.bearer_grants import bearer_grant_issue
from tokens.services.sessions import SessionRequest, session_issue
from tokens.services.trade import access_token_trade
from tokens.wire import eacl as wire
from tokens.wire.eacl_rules import parse_rules
owner = owner_create(actor=SYSTEM, name="Bench", slug="bench")
user, _ = get_user_model().objects.get_or_create(username="bench-operator")
membership_set(actor=SYSTEM, owner=owner, role=Role.OPERATOR, user=user)
actor = Principal(user=user)
container = container_create(actor=actor, owner=owner, name="bench")
rules = [f"deny get obj:Project=p{i} others" for i in range(RECORDS - 1)]
rules.append("deny get obj:Project=last others")
table = wire.Table(container_id=None, records=parse_rules("\\n".join(rules)))
stored = eacl_table_create(
    actor=actor, owner=owner, name="bench", container=container, table=table)
container_update(actor=actor, container=container, changes={"eacl_table": stored})
_, bearer = bearer_grant_issue(
    actor=actor, container=container, receiver=None, table=table, lifetime=3600)
issued = session_issue(actor=actor, owner=owner, request=SessionRequest(
    kind=SessionKind.DELEGATION, context=SessionContext.OBJECT, verbs=("GET", "HEAD"),
    renewer=actor, container=container))
access = access_token_trade(subject_token=issued.delegation_token).access_token
application = Application.objects.create(
    name="bench-resource-server", client_type="confidential",
    authorization_grant_type="client-credentials")
membership_set(actor=SYSTEM, owner=owner, role=Role.OPERATOR, application=application)
oauth = AccessToken.objects.create(
    application=application, token=secrets.token_urlsafe(32),
    expires=timezone.now() + dt.timedelta(hours=2), scope="authority")
import base64
print(json.dumps({
    "delegation": issued.delegation_token, "access": access, "oauth": oauth.token,
    "container": container.container_id,
    "bearer": base64.b64encode(bearer.encode()).decode(),
}))
"""


def prepare(env: dict[str, str]) -> dict[str, str]:
    python = sys.executable
    subprocess.run([python, "manage.py", "hsm_init"], cwd=ROOT, env=env, check=True)  # noqa: S603
    migrate = [python, "manage.py", "migrate", "-v0"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True)  # noqa: S603
    script = f"RECORDS = {RECORDS}\n{PREPARE}"
    out = subprocess.run(  # noqa: S603
        [python, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    return dict(json.loads(out.strip().splitlines()[-1]))


def post_script(body: dict[str, Any], bearer: str | None = None) -> Any:
    """A wrk Lua script POSTing `body` as JSON (with an OAuth2 bearer token when given)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(json.dumps(body))}\n"
        )
        if bearer:
            lua.write(f'wrk.headers["Authorization"] = "Bearer {bearer}"\n')
    return lua


def _post_json(url: str, body: dict[str, Any], bearer: str) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - the local server
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return dict(json.loads(response.read()))


def start_server(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "authority.wsgi", "-w", "2", "-b", f"127.0.0.1:{PORT}",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    trade_load.BENCH_HSM = ROOT / "var" / "bench-decide-hsm"
    fresh_database(DATABASE)
    env = {
        **environment(DATABASE),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"),
        "THROTTLE_INTROSPECT": "100000000/minute",
        "THROTTLE_VERIFY": "100000000/minute",
        "THROTTLE_TOKEN": "100000000/minute",
    }
    facts = prepare(env)
    verify = {
        "verb": "GET",
        "container": facts["container"],
        "bearer_token": facts["bearer"],
        "object_headers": {"Project": "last"},
    }
    allow_body = {**verify, "object_headers": {"Project": "none"}}
    scripts = {
        "trade": post_script({"subject_token": facts["delegation"]}),
        "introspect": post_script({"token": facts["access"]}, facts["oauth"]),
        "verify": post_script(verify, facts["oauth"]),
        "verify-allow": post_script(allow_body, facts["oauth"]),
    }
    base = f"http://127.0.0.1:{PORT}"
    paths = {
        "trivial": "/api/v1/epoch",
        "trade": "/api/v1/trade",
        "introspect": "/api/v1/introspect",
        "verify": "/api/v1/verify",
        "verify-allow": "/api/v1/verify",
    }
    server = start_server(env)
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
    try:
        wait_for(PORT)
        for name, path in paths.items():  # warm-up: keys, caches, connections; and a sanity check
            lua = scripts.get(name)
            warm = wrk(f"{base}{path}", lua.name if lua else None, 2)
            if warm["non_2xx"]:
                sys.exit(f"{name}: {warm['non_2xx']:.0f} answers not 2xx in the warm-up")
        for body, expected in ((verify, "deny"), (allow_body, "allow")):
            answer = _post_json(f"{base}/api/v1/verify", body, facts["oauth"])
            if answer.get("decision") != expected:
                sys.exit(f"verify answered {answer}, not {expected}: the benchmark is off")
        pids = server_pids(server)
        for _ in range(ROUNDS):
            for name, path in paths.items():
                lua = scripts.get(name)
                rounds[name].append(wrk(f"{base}{path}", lua.name if lua else None, DURATION, pids))
    finally:
        server.terminate()
        server.wait(timeout=30)
        for lua in scripts.values():
            os.unlink(lua.name)
    print(
        f"gunicorn 2 workers, PostgreSQL + Redis, wrk 16 connections, {ROUNDS} alternating rounds"
        f" of {DURATION} s; medians (a shared 2-core machine: compare ratios, not absolutes)"
    )
    medians = {name: _medians(runs) for name, runs in rounds.items()}
    targets = {"trade": 0.5, "introspect": 0.5, "verify": 0.4, "verify-allow": 0.4}
    for name, figures in medians.items():
        ratio = statistics.median(
            run["rate"] / trivial["rate"]
            for run, trivial in zip(rounds[name], rounds["trivial"], strict=True)
        )
        target = f"(target >= {targets[name]})" if name in targets else ""
        print(
            f"  {name:<13}{paths[name]:<20}{figures['rate']:8,.0f} req/s"
            f"   p50 {figures['p50']:6.1f} ms   p99 {figures['p99']:6.1f} ms"
            f"   non-2xx {figures['non_2xx']:.0f}"
            f"   CPU {figures['cpu_us']:5.0f} us/req   ratio {ratio:.2f} {target}"
        )


if __name__ == "__main__":
    main()
