"""Trade under load: gunicorn (2 workers) on PostgreSQL and Redis, driven by wrk at 16
connections; `POST /api/v1/trade` against a trivial DRF endpoint of the same app
(`GET /api/v1/epoch`). Prints requests/s, p50 and p99 of both and trade/trivial
(targets: ratio ≥ 0.5, trade p99 ≤ 50 ms).

The two endpoints run in alternating rounds (BENCH_ROUNDS, default 5, of BENCH_SECONDS each) and the
figures are the medians: on a shared 2-core machine the CPU's speed drifts between runs, and
alternating keeps both endpoints under the same conditions.

    make bench-trade      (needs PostgreSQL and Redis on 127.0.0.1, and Debian's wrk)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATABASE = "sa_bench"
PORT = 8799
DURATION = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


# The benchmarks' own SoftHSM2 token, made anew each run beside their new database: keys of a
# dropped database would otherwise stay behind in the project's token, run after run.
BENCH_HSM = ROOT / "var" / "bench-hsm"


def environment(database: str = DATABASE) -> dict[str, str]:
    return {
        **os.environ,
        "SOFTHSM2_CONF": str(BENCH_HSM / "softhsm" / "softhsm2.conf"),
        "HSM_PIN_FILE": str(BENCH_HSM / "user.pin"),
        "HSM_SO_PIN_FILE": str(BENCH_HSM / "so.pin"),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        "DEBUG": "false",
        # Load from one address with one session token: every trade throttle out of the way.
        "THROTTLE_TRADE": "100000000/minute",
        "THROTTLE_TRADE_ADDRESS": "100000000/minute",
        "LOG_LEVEL": "WARNING",
    }


def fresh_database(database: str = DATABASE) -> None:
    """A new, empty benchmark database and HSM token every run, so figures do not drift with
    leftovers (`prepare` initialises the token)."""
    import psycopg

    shutil.rmtree(BENCH_HSM, ignore_errors=True)

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{database}"')


def prepare(env: dict[str, str]) -> str:
    """Migrates, makes a tenant and a delegation session; returns its token."""
    python = sys.executable
    subprocess.run([python, "manage.py", "hsm_init"], cwd=ROOT, env=env, check=True)  # noqa: S603
    migrate = [python, "manage.py", "migrate", "-v0"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True)  # noqa: S603
    script = """
import json
from authority.models import Owner, Role
from authority.principals import SYSTEM, Principal
from authority.services.owners import owner_create, membership_set
from authority.services.containers import container_create
from django.contrib.auth import get_user_model
from tokens.models import SessionContext, SessionKind
from tokens.services.sessions import SessionRequest, session_issue
owner = Owner.objects.filter(slug="bench").first()
owner = owner or owner_create(actor=SYSTEM, name="Bench", slug="bench")
user, _ = get_user_model().objects.get_or_create(username="bench-operator")
membership_set(actor=SYSTEM, owner=owner, role=Role.OPERATOR, user=user)
actor = Principal(user=user)
container = owner.containers.first() or container_create(actor=actor, owner=owner, name="bench")
issued = session_issue(actor=actor, owner=owner, request=SessionRequest(
    kind=SessionKind.DELEGATION, context=SessionContext.OBJECT, verbs=("GET", "HEAD"),
    renewer=actor, container=container))
print(json.dumps({"token": issued.delegation_token}))
"""
    out = subprocess.run(  # noqa: S603
        [python, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    return str(json.loads(out.strip().splitlines()[-1])["token"])


def wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def server_pids(server: subprocess.Popen[bytes]) -> list[int]:
    """The gunicorn workers, PostgreSQL's processes and Redis: the CPU a request costs the
    service (wrk's own share is the same for both endpoints and left out)."""

    def pgrep(*args: str) -> list[int]:
        found = subprocess.run(["pgrep", *args], capture_output=True, text=True).stdout  # noqa: S603, S607
        return [int(pid) for pid in found.split()]

    return [*pgrep("-P", str(server.pid)), *pgrep("-x", "postgres"), *pgrep("redis-server")]


def wrk(url: str, script: str | None, seconds: int, pids: Sequence[int] = ()) -> dict[str, float]:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", script]
    cpu_before = cpu_seconds(list(pids))
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    cpu = cpu_seconds(list(pids)) - cpu_before
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]

    def percentile(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": rate,
        "p50": percentile("50"),
        "p99": percentile("99"),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "cpu_us": cpu / requests * 1e6 if requests else 0.0,
    }


def trade_script(token: str) -> Any:
    """A wrk Lua script that POSTs a trade of `token`."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        body = json.dumps({"subject_token": token})
        lua.write(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(body)}\n"
        )
    return lua


def start_server(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "authority.wsgi", "-w", "2", "-b", f"127.0.0.1:{PORT}",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip


def _medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """Median of each figure; non-2xx responses are summed."""
    out = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    out["non_2xx"] = sum(run["non_2xx"] for run in runs)
    return out


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    fresh_database()
    env = environment()
    token = prepare(env)
    lua = trade_script(token)
    server = start_server(env)
    try:
        wait_for(PORT)
        base = f"http://127.0.0.1:{PORT}"
        wrk(f"{base}/api/v1/trade", lua.name, 3)  # warm-up: keys, caches, connections
        wrk(f"{base}/api/v1/epoch", None, 2)
        pids = server_pids(server)
        rounds = []
        for _ in range(ROUNDS):
            trivial = wrk(f"{base}/api/v1/epoch", None, DURATION, pids)
            trade = wrk(f"{base}/api/v1/trade", lua.name, DURATION, pids)
            rounds.append((trivial, trade))
    finally:
        server.terminate()
        server.wait(timeout=30)
        os.unlink(lua.name)
    print(
        f"gunicorn 2 workers, PostgreSQL + Redis, wrk 16 connections, "
        f"{ROUNDS} alternating rounds of {DURATION} s; medians"
    )
    for number, (trivial, trade) in enumerate(rounds, 1):
        print(
            f"  round {number}: trivial {trivial['rate']:,.0f} req/s, trade {trade['rate']:,.0f}"
            f" req/s, ratio {trade['rate'] / trivial['rate']:.2f}"
        )
    trivial, trade = _medians([r[0] for r in rounds]), _medians([r[1] for r in rounds])
    for label, figures in (
        ("trivial DRF GET /api/v1/epoch", trivial),
        ("POST /api/v1/trade", trade),
    ):
        print(
            f"  {label:<32}{figures['rate']:8,.0f} req/s   p50 {figures['p50']:6.1f} ms"
            f"   p99 {figures['p99']:6.1f} ms   non-2xx {figures['non_2xx']:.0f}"
            f"   CPU {figures['cpu_us']:5.0f} us/request"
        )
    ratio = statistics.median(r[1]["rate"] / r[0]["rate"] for r in rounds)
    targets = "(targets: ratio >= 0.5, trade p99 <= 50 ms)"
    print(
        f"  trade/trivial {ratio:.2f} (median of rounds); trade p99 {trade['p99']:.1f} ms {targets}"
    )
    print(
        f"  CPU per request (gunicorn, PostgreSQL, Redis) trivial/trade "
        f"{trivial['cpu_us'] / trade['cpu_us']:.2f}: the same ratio, less exposed to the "
        "machine's drift"
    )


if __name__ == "__main__":
    main()
