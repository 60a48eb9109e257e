"""ECDSA P-256 signatures per second in the HSM (the project's SoftHSM2 token under var/):
through the session pool, through a bare python-pkcs11 loop on one session, their ratio (target
≥ 0.9), and 2 worker processes over 1 (target ≥ 1.5: the pool scales by processes).

    make bench-hsm        (or: .venv/bin/python benchmarks/hsm_sign.py)
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")

import django  # noqa: E402

django.setup()

import pkcs11  # noqa: E402
from pkcs11 import Mechanism, ObjectClass  # noqa: E402

from hsm.conf import PKCS11_KEYSTORE, hsm_config  # noqa: E402
from hsm.keystore.pkcs11 import PKCS11KeyStore  # noqa: E402

SECONDS = 3.0
DIGEST = b"\x5a" * 32


def _pool_worker(key_id: bytes, start_at: float, queue: multiprocessing.Queue) -> None:
    store = PKCS11KeyStore(hsm_config())
    store.sign_digest(key_id=key_id, material=b"", digest=DIGEST)  # log in, find the key
    while time.time() < start_at:
        time.sleep(0.001)
    count, began = 0, time.perf_counter()
    while time.perf_counter() - began < SECONDS:
        store.sign_digest(key_id=key_id, material=b"", digest=DIGEST)
        count += 1
    queue.put(count / (time.perf_counter() - began))


def _bare_worker(key_id: bytes, start_at: float, queue: multiprocessing.Queue) -> None:
    config = hsm_config()
    token = pkcs11.lib(config.module).get_token(token_label=config.token_label)
    session = token.open(user_pin=config.pin)
    key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=key_id)
    key.sign(DIGEST, mechanism=Mechanism.ECDSA)
    count, began = 0, time.perf_counter()
    while time.perf_counter() - began < SECONDS:
        key.sign(DIGEST, mechanism=Mechanism.ECDSA)
        count += 1
    queue.put(count / (time.perf_counter() - began))


def _run(target, processes: int, key_id: bytes) -> float:  # type: ignore[no-untyped-def]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start_at = time.time() + 1.0
    workers = [
        context.Process(target=target, args=(key_id, start_at, queue)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    rates = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join()
    return sum(rates)


def main() -> None:
    config = hsm_config()
    if config.keystore != PKCS11_KEYSTORE:
        sys.exit("The HSM benchmark needs the PKCS#11 backend (run `manage.py hsm_init`).")
    setup = PKCS11KeyStore(config)
    key_id = os.urandom(16)
    setup.generate_ec(key_id=key_id, label="benchmark")
    setup.close()
    try:
        bare = _run(_bare_worker, 1, key_id)
        pool = _run(_pool_worker, 1, key_id)
        pool_two = _run(_pool_worker, 2, key_id)
    finally:
        cleanup = PKCS11KeyStore(config)
        cleanup.destroy(key_id=key_id)
        cleanup.close()
    print(f"ECDSA P-256 signatures, {config.module}, token {config.token_label!r}")
    rows = [
        ("bare python-pkcs11 loop, one session", bare, ""),
        ("session pool, 1 process", pool, f"pool/bare {pool / bare:.2f} (target >= 0.9)"),
        ("session pool, 2 processes", pool_two, f"2/1 {pool_two / pool:.2f} (target >= 1.5)"),
    ]
    for label, figure, ratio in rows:
        print(f"  {label:<40}{figure:9,.0f} /s  {ratio}")


if __name__ == "__main__":
    main()
