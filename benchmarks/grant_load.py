"""OAuth2 under load (issue 17): the client-credentials grant at `POST /o/token/` against a
trivial DRF endpoint of the same app (`GET /api/v1/epoch`), served as bench-trade serves it
(gunicorn, 2 workers, PostgreSQL + Redis, wrk at 16 connections, alternating rounds, medians);
then, in one process on the same database, the per-request cost of bearer authentication with
django-oauth-toolkit's own class (before) and with the authority's (after: the header only, the
validated token remembered), and of one client-secret check under PBKDF2 (before) and under
HMAC-SHA256 with a pepper (after).

Target (issue 17): grants/trivial >= 0.25 (was ~0.003: ~3 grants/s against ~900 req/s).

    make bench-grants      (needs PostgreSQL and Redis on 127.0.0.1, and Debian's wrk)
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trade_load import (  # noqa: E402
    DURATION,
    ROOT,
    ROUNDS,
    _medians,
    environment,
    fresh_database,
    server_pids,
    wait_for,
    wrk,
)

DATABASE = "sa_bench_oauth"
PORT = 8891
ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "2000"))

# Run in `manage.py shell` on the benchmark database: a service account of a tenant.
PREPARE = """
import json
from oauth2_provider.models import Application
from authority.models import Role
from authority.principals import SYSTEM
from authority.services.oauth2_clients import client_secret_generate
from authority.services.owners import membership_set, owner_create
owner = owner_create(actor=SYSTEM, name="Bench", slug="bench")
secret = client_secret_generate()
application = Application.objects.create(
    name="bench-service", client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS, client_secret=secret)
membership_set(actor=SYSTEM, owner=owner, role=Role.OPERATOR, application=application)
print(json.dumps({"client_id": application.client_id, "client_secret": secret}))
"""

# Run in `manage.py shell`: microseconds per bearer authentication and per secret check.
MEASURE = """
import json, os, time
from django.contrib.auth.hashers import check_password, make_password
from django.test import RequestFactory
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.request import Request
from authority.api.bearer import BearerAuthentication
from authority.services.oauth2_clients import ClientSecretHasher, client_secret_generate
token, iterations = os.environ["BENCH_TOKEN"], int(os.environ["BENCH_ITERATIONS"])
factory = RequestFactory()
def per_call(authentication, count):
    request = Request(factory.get("/api/v1/owners", HTTP_AUTHORIZATION=f"Bearer {token}"))
    assert authentication.authenticate(request) is not None  # warm: validated, remembered
    began = time.perf_counter()
    for _ in range(count):
        request = Request(factory.get("/api/v1/owners", HTTP_AUTHORIZATION=f"Bearer {token}"))
        authentication.authenticate(request)
    return (time.perf_counter() - began) / count * 1e6
secret = client_secret_generate()
pbkdf2 = make_password(secret, hasher="pbkdf2_sha256")
keyed = make_password(secret, hasher=ClientSecretHasher())
def check(encoded, count):
    began = time.perf_counter()
    for _ in range(count):
        assert check_password(secret, encoded)
    return (time.perf_counter() - began) / count * 1e6
print(json.dumps({
    "dot_bearer_us": per_call(OAuth2Authentication(), iterations),
    "authority_bearer_us": per_call(BearerAuthentication(), iterations),
    "pbkdf2_us": check(pbkdf2, 3),
    "hmac_us": check(keyed, iterations),
}))
"""


def _shell(env: dict[str, str], script: str) -> dict[str, object]:
    out = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def grant_script(client_id: str, secret: str) -> str:
    """A wrk Lua script that POSTs a client-credentials grant (HTTP Basic, RFC 6749 §2.3.1)."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            f'wrk.headers["Authorization"] = "Basic {basic}"\n'
            'wrk.body = "grant_type=client_credentials"\n'
        )
    return lua.name


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    fresh_database(DATABASE)
    env = {
        **environment(DATABASE),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"),
        "THROTTLE_OAUTH2_TOKEN": "100000000/minute",
        "THROTTLE_OAUTH2_TOKEN_ADDRESS": "100000000/minute",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "hsm_init"], cwd=ROOT, env=env, check=True)  # noqa: S603
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    client = _shell(env, PREPARE)
    lua = grant_script(str(client["client_id"]), str(client["client_secret"]))
    server = subprocess.Popen(  # noqa: S603
        [python, "-m", "gunicorn", "authority.wsgi", "-w", "2", "-b", f"127.0.0.1:{PORT}",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_for(PORT)
        base = f"http://127.0.0.1:{PORT}"
        wrk(f"{base}/o/token/", lua, 3)  # warm-up: connections, caches
        wrk(f"{base}/api/v1/epoch", None, 2)
        pids = server_pids(server)
        rounds = []
        for _ in range(ROUNDS):
            trivial = wrk(f"{base}/api/v1/epoch", None, DURATION, pids)
            grant = wrk(f"{base}/o/token/", lua, DURATION, pids)
            rounds.append((trivial, grant))
        token = _grant_one(base, str(client["client_id"]), str(client["client_secret"]))
    finally:
        server.terminate()
        server.wait(timeout=30)
        os.unlink(lua)
    costs = _shell({**env, "BENCH_TOKEN": token, "BENCH_ITERATIONS": str(ITERATIONS)}, MEASURE)

    print(
        f"gunicorn 2 workers, PostgreSQL + Redis, wrk 16 connections, "
        f"{ROUNDS} alternating rounds of {DURATION} s; medians"
    )
    for number, (trivial, grant) in enumerate(rounds, 1):
        print(
            f"  round {number}: trivial {trivial['rate']:,.0f} req/s, grants {grant['rate']:,.0f}"
            f"/s, ratio {_ratio(grant, trivial):.3f}"
        )
    trivial_figures, grant_figures = (
        _medians([r[0] for r in rounds]),
        _medians([r[1] for r in rounds]),
    )
    for label, figures in (
        ("trivial DRF GET /api/v1/epoch", trivial_figures),
        ("client-credentials POST /o/token/", grant_figures),
    ):
        print(
            f"  {label:<36}{figures['rate']:8,.0f} req/s   p50 {figures['p50']:6.1f} ms"
            f"   p99 {figures['p99']:6.1f} ms   non-2xx {figures['non_2xx']:.0f}"
            f"   CPU {figures['cpu_us']:5.0f} us/request"
        )
    ratio = statistics.median(_ratio(grant, trivial) for trivial, grant in rounds)
    print(f"  grants/trivial {ratio:.3f} (median of rounds; target >= 0.25, was ~0.003)")
    print(f"one process, {ITERATIONS} calls each, microseconds per call:")
    dot, ours = float(costs["dot_bearer_us"]), float(costs["authority_bearer_us"])  # type: ignore[arg-type]
    print(f"  bearer authentication, django-oauth-toolkit's class (before) {dot:8.0f} us")
    print(f"  bearer authentication, the authority's (after: remembered) {ours:8.1f} us")
    print(f"  bearer authentication after/before {ours / dot:.3f}")
    pbkdf2, keyed = float(costs["pbkdf2_us"]), float(costs["hmac_us"])  # type: ignore[arg-type]
    print(f"  client-secret check, PBKDF2 (before)                    {pbkdf2:10.0f} us")
    print(f"  client-secret check, HMAC-SHA256 + pepper (after)        {keyed:10.1f} us")


def _ratio(grant: dict[str, float], trivial: dict[str, float]) -> float:
    """Grants per trivial request in one round (0 when the machine starved the trivial one)."""
    return grant["rate"] / trivial["rate"] if trivial["rate"] else 0.0


def _grant_one(base: str, client_id: str, secret: str) -> str:
    """One access token, from the running server."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the benchmark's own server
        f"{base}/o/token/",
        data=b"grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}"},
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310
        return str(json.load(response)["access_token"])


if __name__ == "__main__":
    main()
