"""The expiry sweep over 1,000,000 expired sessions on PostgreSQL (target < 60 s, batches
≤ 10,000), while a trade load runs beside it: trade p99 during the sweep against before
(target within 2×).

    make bench-sweep      (needs PostgreSQL and Redis on 127.0.0.1, and Debian's wrk)
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trade_load import (  # noqa: E402
    PORT,
    ROOT,
    environment,
    fresh_database,
    prepare,
    start_server,
    trade_script,
    wait_for,
    wrk,
)

DATABASE = "sa_bench_sweep"
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "1000000"))


def _insert_expired(count: int) -> float:
    import psycopg

    began = time.perf_counter()
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DATABASE}") as db:
        owner = db.execute("SELECT id FROM authority_owner WHERE slug = 'bench'").fetchone()[0]
        db.execute(
            """
            INSERT INTO tokens_session (id, owner_id, subject, kind, context, verbs, objects_list,
                secret_digest, created_at, expires_at, max_expires_at, access_generation)
            SELECT gen_random_uuid(), %s, 'user:bench', 'delegation', 'object', '["GET"]', '[]',
                '', now() - interval '2 days', now() - (g %% 86400) * interval '1 second',
                now() + interval '1 day', 0
            FROM generate_series(1, %s) AS g
            """,
            (owner, count),
        )
        db.execute("ANALYZE tokens_session")
    return time.perf_counter() - began


def main() -> None:
    fresh_database(DATABASE)
    env = environment(DATABASE)
    token = prepare(env)
    inserted = _insert_expired(SESSIONS)
    lua = trade_script(token)
    server = start_server(env)
    try:
        wait_for(PORT)
        url = f"http://127.0.0.1:{PORT}/api/v1/trade"
        wrk(url, lua.name, 3)
        before = wrk(url, lua.name, 10)
        during: dict[str, float] = {}
        sweep_seconds = 0.0

        def load() -> None:
            during.update(wrk(url, lua.name, 20))

        loader = threading.Thread(target=load)
        loader.start()
        time.sleep(2)
        began = time.perf_counter()
        out = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "sweep_sessions", "--batch-size", "10000"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        sweep_seconds = time.perf_counter() - began
        loader.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
        os.unlink(lua.name)
    print(f"expiry sweep of {SESSIONS:,} expired sessions (inserted in {inserted:.1f} s)")
    print(f"  {out}")
    rate = SESSIONS / sweep_seconds
    print(f"  sweep took {sweep_seconds:.1f} s ({rate:,.0f} sessions/s; target < 60 s)")
    print(
        f"  trade before: {before['rate']:,.0f} req/s, p99 {before['p99']:.1f} ms; during: "
        f"{during['rate']:,.0f} req/s, p99 {during['p99']:.1f} ms; "
        f"ratio {during['p99'] / before['p99']:.2f} (target <= 2); "
        f"non-2xx {before['non_2xx'] + during['non_2xx']:.0f}"
    )


if __name__ == "__main__":
    main()
