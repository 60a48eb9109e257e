"""Bad input refused at the edge (issue 17), timed: what a 200,000-character base58 id, JSON
nested 1,000 deep, a NUL byte and a 10 MB body cost the server now, through the API (in process,
Django test client, DEBUG off, SQLite in a temporary file); and, for scale, what decoding an
over-long id used to cost (the library's decoder is quadratic in the text's length).

    make bench-limits
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_db = tempfile.NamedTemporaryFile(suffix=".sqlite3", delete=False)
os.environ["DATABASE_URL"] = f"sqlite:///{_db.name}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")
os.environ["DEBUG"] = "false"
os.environ.setdefault("LOG_LEVEL", "ERROR")  # a line per refused request would bury the table

import django  # noqa: E402

django.setup()

import base58  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

LONG_ID = "2" * 200_000


def best_ms(work, repeat: int = 5) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """The fastest of `repeat` runs, in milliseconds, and the status code it answered."""
    times, status = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        status = work()
        times.append((time.perf_counter() - began) * 1000)
    return min(times), status


def main() -> None:
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("bench", password="x" * 20, is_staff=True)
    member = APIClient()
    member.force_login(user)
    anonymous = APIClient()
    deep = ("[" * 1000 + "]" * 1000).encode()
    big = b'{"subject_token": "' + b"x" * 10_000_000 + b'"}'
    cases = {
        "200,000-char container id in a query (member)": lambda: (
            member.get(f"/api/v1/sessions?container={LONG_ID}").status_code
        ),
        "200,000-char container id in a body (member)": lambda: (
            member.post(
                "/api/v1/containers", {"name": "c", "container_id": LONG_ID}, format="json"
            ).status_code
        ),
        "200,000-char container id in a path (member)": lambda: (
            member.get(f"/api/v1/containers/{LONG_ID}").status_code
        ),
        "JSON nested 1,000 deep, unauthenticated trade": lambda: (
            anonymous.post("/api/v1/trade", deep, content_type="application/json").status_code
        ),
        "NUL byte in a query parameter (member)": lambda: (
            member.get("/api/v1/sessions?renewer=%00").status_code
        ),
        "10 MB body, unauthenticated trade": lambda: (
            anonymous.post("/api/v1/trade", big, content_type="application/json").status_code
        ),
        "a well-formed trivial call for comparison (GET /api/v1/epoch)": lambda: (
            member.get("/api/v1/epoch").status_code
        ),
    }
    print("request                                                        status   best ms")
    for name, work in cases.items():
        ms, status = best_ms(work)
        print(f"{name:<62} {status:>6} {ms:>9.2f}")
    print("\nwhat the base58 library's decoder costs (refused now above 44 characters):")
    for length in (44, 5_000, 10_000, 20_000):
        ms, _ = best_ms(lambda n=length: len(base58.b58decode(b"2" * n)), repeat=3)
        print(f"  {length:>6} characters: {ms:>9.2f} ms")
    print("  (quadratic: 200,000 characters would take ~100x the 20,000 figure)")


if __name__ == "__main__":
    main()
