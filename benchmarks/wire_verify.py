"""Session-token verification through `tokens.wire` against raw `cryptography` ECDSA verify of
the same body, and encode+decode throughput. Prints figures and ratios (target verify ≥ 0.8).

    make bench-wire        (or: .venv/bin/python benchmarks/wire_verify.py)
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402

from tokens.wire.ids import ContainerID, ObjectID, OwnerID  # noqa: E402
from tokens.wire.lifetime import Lifetime  # noqa: E402
from tokens.wire.session import ObjectContext, ObjectVerb, SessionBody, SessionToken  # noqa: E402
from tokens.wire.signature import Scheme, SoftwareSigner  # noqa: E402
from tokens.wire.token import Check  # noqa: E402


def rate(work: Callable[[], object], seconds: float = 2.0) -> float:
    """Operations per second, best of three runs of `seconds` / 3 each."""
    best = 0.0
    for _ in range(3):
        count, start = 0, time.perf_counter()
        deadline = start + seconds / 3
        while time.perf_counter() < deadline:
            for _ in range(50):
                work()
            count += 50
        best = max(best, count / (time.perf_counter() - start))
    return best


def main() -> None:
    signer = SoftwareSigner()
    body = SessionBody(
        id=os.urandom(16),
        owner_id=OwnerID.from_public_key(signer.public_key()),
        lifetime=Lifetime(exp=1000, nbf=1, iat=1),
        session_key=SoftwareSigner().public_key(),
        context=ObjectContext(
            ObjectVerb.PUT, ContainerID(os.urandom(32)), (ObjectID(os.urandom(32)),)
        ),
    )
    token = SessionToken(body).signed(signer, Scheme.ECDSA_RFC6979_SHA256)
    data = token.encode()
    assert SessionToken.decode(data).check() is Check.OK

    public = signer.private_key.public_key()
    body_bytes = body.encode()
    sign = token.signature.sign
    der = encode_dss_signature(int.from_bytes(sign[:32], "big"), int.from_bytes(sign[32:], "big"))
    algorithm = ec.ECDSA(hashes.SHA256())

    raw = rate(lambda: public.verify(der, body_bytes, algorithm))
    decoded = SessionToken.decode(data)
    wire_check = rate(decoded.check)
    wire_full = rate(lambda: SessionToken.decode(data).check())
    round_trip = rate(lambda: SessionToken.decode(token.encode()))

    rows = [
        ("raw cryptography verify of the body", raw),
        ("tokens.wire check() of a decoded token", wire_check),
        ("tokens.wire decode + check() from bytes", wire_full),
    ]
    print("session-token verification (ECDSA P-256, RFC 6979 SHA-256)")
    for label, figure in rows:
        print(f"  {label:<42}{figure:10,.0f} /s  ratio {figure / raw:.2f}")
    print(f"session-token encode + decode ({len(data)} bytes)  {round_trip:10,.0f} /s")
    target = 0.8
    for label, figure in (("verify", wire_check), ("decode+verify", wire_full)):
        verdict = "meets" if figure / raw >= target else "misses"
        print(f"target {label}/raw >= {target}: {verdict} ({figure / raw:.2f})")


if __name__ == "__main__":
    main()
