"""The SDK's own cost: `Client.session_get` (session file read, Authorization, the interceptor's
write-back, a typed result) against the same GET made with bare `requests` on one keep-alive
connection; and the session file's overhead per call. Targets: SDK/bare ≥ 0.9, file ≤ 0.2 ms.

The server is a stub of the authority's answer (an HTTP/1.1 keep-alive server in its own process
that answers every GET with a session's JSON body and a fresh `X-Authority-Token`), not the
authority: the authority's own time per call would hide the client's cost this measures.
Short rounds alternate between the two clients, each on its own already-open connection
(BENCH_ROUNDS, default 30, of BENCH_CALLS calls each), and the figures are medians: the shared
machine's speed drifts from second to second.

    make bench-sdk
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tokens.client import Client, SessionFile  # noqa: E402 - after the path set-up

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
CALLS = int(os.environ.get("BENCH_CALLS", "200"))
SESSION_ID = "5f0c2b1e-8d4a-4c57-9a0e-1f2e3d4c5b6a"
BODY = json.dumps(
    {
        "id": SESSION_ID,
        "owner": "acme",
        "kind": "delegation",
        "context": "object",
        "verbs": ["GET", "HEAD"],
        "container": "7Hgq8Lw9vC2sZk1mXb3Nf5Rt6Yp4Ud8Ea2Wc9Qj1Ks3L",
        "objects": [],
        "subject": "user:alice",
        "renewer": "user:alice",
        "session_key": None,
        "state": "active",
        "created_at": "2026-12-01T10:00:00Z",
        "expires_at": "2026-12-02T10:00:00Z",
        "max_expires_at": "2026-12-08T10:00:00Z",
        "cancelled_at": None,
    }
).encode()


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body go in two writes: no delayed-ACK stalls
    counter = itertools.count()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("X-Authority-Token", f"sac1.{next(self.counter):012d}.{'m' * 43}")
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


def serve(port: multiprocessing.Queue) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubHandler)
    port.put(server.server_address[1])
    server.serve_forever()


def bare_round(session: requests.Session, url: str, token: str) -> float:
    headers = {"Accept": "application/json", "Authorization": f"Token {token}"}
    start = time.perf_counter()
    for _ in range(CALLS):
        response = session.get(f"{url}/api/v1/sessions/{SESSION_ID}", headers=headers, timeout=10)
        response.raise_for_status()
        response.json()
    return CALLS / (time.perf_counter() - start)


def sdk_round(client: Client) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        client.session_get(SESSION_ID)
    return CALLS / (time.perf_counter() - start)


def file_overhead(session_file: SessionFile, calls: int) -> float:
    """Seconds per call the session file costs the interceptor: a read before the call, and the
    (paced) write-back of the answer's token after it."""
    start = time.perf_counter()
    for n in range(calls):
        session_file.read()
        session_file.refresh(f"sac1.{n:012d}.{'m' * 43}")
    return (time.perf_counter() - start) / calls


def main() -> None:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(queue,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{queue.get(timeout=10)}"
    with tempfile.TemporaryDirectory() as state:
        session_file = SessionFile(Path(state) / "session-authority" / "token")
        session_file.write(f"sac1.{'0' * 12}.{'m' * 43}")
        token = session_file.read() or ""
        with requests.Session() as session, Client(url, session_file=session_file) as client:
            bare_round(session, url, token), sdk_round(client)  # warm-up: connections open
            bare, sdk = [], []
            for _ in range(ROUNDS):
                bare.append(bare_round(session, url, token))
                sdk.append(sdk_round(client))
        overhead = statistics.median(file_overhead(session_file, CALLS) for _ in range(ROUNDS))
        unpaced = SessionFile(Path(state) / "unpaced" / "token", refresh_interval=0)
        unpaced.write("sac1.x")
        fsynced = file_overhead(unpaced, 50)
    server.terminate()
    bare_rate, sdk_rate = statistics.median(bare), statistics.median(sdk)
    ratio = sdk_rate / bare_rate
    print(f"bare requests, one keep-alive connection: {bare_rate:8.0f} calls/s")
    print(f"SDK Client.session_get (session file):    {sdk_rate:8.0f} calls/s")
    print(f"SDK / bare: {ratio:.2f} (target >= 0.9)")
    print(f"session file per call (read + paced write-back): {overhead * 1e3:.3f} ms", end="")
    print(" (target <= 0.2)")
    print(f"  for comparison, unpaced (an fsync'd write every call): {fsynced * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
