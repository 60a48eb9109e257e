"""Keys another process stores in the token are usable here, even when both processes store one
at the same moment (two gunicorn workers making a key on first need, a Celery rotation beside a
web worker creating a dynamic session key).

SoftHSM2's view of the token misses, until the module is initialised again, an object another
process stored while this one was storing its own; before the key store looked again, the worker
that lost that race answered 409 "key not in the HSM" to every trade."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time

from hsm.keystore import keystore

_OTHER_PROCESS = """
import sys, time
import pkcs11
from pkcs11 import Attribute, KeyType
from pkcs11.util.ec import encode_named_curve_parameters

module, label, pin, key_id, start = sys.argv[1:6]
token = pkcs11.lib(module).get_token(token_label=label)
with token.open(rw=True, user_pin=pin) as session:
    params = session.create_domain_parameters(
        KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
    )
    print("ready", flush=True)
    while time.time() < float(start):
        pass
    params.generate_keypair(
        store=True, id=bytes.fromhex(key_id), label="other-process",
        private_template={Attribute.SIGN: True, Attribute.SENSITIVE: True, Attribute.PRIVATE: True},
    )
"""


def test_a_key_stored_by_another_process_at_the_same_moment_signs_here():
    store = keystore()
    config = store.config
    trials = 12  # each trial lost the race about half the time before the fix
    for _ in range(trials):
        theirs = secrets.token_bytes(16)
        start = time.time() + 1.0
        other = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", _OTHER_PROCESS, config.module, config.token_label,
             config.pin, theirs.hex(), str(start)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert other.stdout is not None and other.stdout.readline().strip() == "ready"
        while time.time() < start:
            pass
        store.generate_ec(key_id=secrets.token_bytes(16), label="this-process")
        assert other.wait(timeout=30) == 0
        raw = store.sign_digest(key_id=theirs, material=b"", digest=b"\x42" * 32)
        assert len(raw) == 64
