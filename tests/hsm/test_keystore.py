"""The PKCS#11 key store on a real SoftHSM2 token: signatures, HMAC key protection, forks,
threads, rotation, destruction, and clear errors when the HSM cannot be used."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import threading

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.test import Client

from authority.principals import SYSTEM
from authority.services.owners import owner_create
from hsm.conf import hsm_config
from hsm.errors import KeyUnusable
from hsm.keystore import keystore
from hsm.keystore.pkcs11 import PKCS11KeyStore
from hsm.models import KeyPurpose, KeyState
from hsm.services import key_destroy, key_generate, key_hmac, key_rotate, key_sign, key_verify
from hsm.signer import HSMSigner
from tokens.wire.ids import OwnerID
from tokens.wire.session import SessionBody, SessionToken
from tokens.wire.signature import Scheme
from tokens.wire.token import Check

pytestmark = pytest.mark.django_db


def _cryptography_verifies(
    public_key: bytes, data: bytes, signature: bytes, scheme: Scheme
) -> bool:
    raw = signature[1:] if scheme == Scheme.ECDSA_SHA512 else signature
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
    algorithm = hashes.SHA512() if scheme == Scheme.ECDSA_SHA512 else hashes.SHA256()
    try:
        key.verify(der, data, ec.ECDSA(algorithm))
    except Exception:  # noqa: BLE001 - any failure is "does not verify"
        return False
    return True


def test_the_tests_use_the_hsm():
    assert keystore().hardware_backed
    assert keystore().status()["module"].endswith("libsofthsm2.so")


@pytest.mark.parametrize("scheme", [Scheme.ECDSA_SHA512, Scheme.ECDSA_RFC6979_SHA256])
def test_signatures_interoperate_with_cryptography(scheme):
    key = key_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    signature = key_sign(key=key, data=b"neofs body", scheme=scheme)
    assert len(signature) == (65 if scheme == Scheme.ECDSA_SHA512 else 64)
    assert _cryptography_verifies(bytes(key.public_key), b"neofs body", signature, scheme)
    assert key_verify(key=key, data=b"neofs body", signature=signature, scheme=scheme)
    assert not key_verify(key=key, data=b"other body", signature=signature, scheme=scheme)


def test_owner_gets_an_hsm_key_and_signs_verifiable_tokens(acme):
    owner = owner_create(actor=SYSTEM, name="Initech", slug="initech")
    key = owner.keys.get(purpose=KeyPurpose.OWNER_SIGNING)
    assert owner.neofs_owner_id == str(OwnerID.from_public_key(bytes(key.public_key)))
    body = SessionBody(owner_id=OwnerID.from_string(owner.neofs_owner_id))
    token = SessionToken(body).signed(HSMSigner(key))
    assert SessionToken.decode(token.encode()).check() is Check.OK


def test_hmac_keys_never_leave_the_hsm():
    key = key_generate(purpose=KeyPurpose.DELEGATION_HMAC)
    attributes = keystore().key_attributes(key_id=bytes(key.key_id), secret=True)
    assert attributes == {"sensitive": True, "extractable": False}
    assert key.material is None and key.public_key is None
    first = key_hmac(key=key, data=b"secret")
    assert len(first) == 32 and first == key_hmac(key=key, data=b"secret")
    assert first != key_hmac(key=key, data=b"secreT")


def test_signing_keys_are_not_extractable():
    key = key_generate(purpose=KeyPurpose.OWNER_SIGNING)
    attributes = keystore().key_attributes(key_id=bytes(key.key_id), secret=False)
    assert attributes == {"sensitive": True, "extractable": False}


def _child_sign(key_id: bytes, queue) -> None:  # runs in a forked child
    store = keystore()
    raw = store.sign_digest(key_id=key_id, material=b"", digest=b"\x11" * 32)
    queue.put((os.getpid(), store._pid, raw))


def test_a_forked_child_signs_with_its_own_session():
    key = key_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    store = keystore()
    store.sign_digest(key_id=bytes(key.key_id), material=b"", digest=b"\x11" * 32)
    parent_generation = store._generation
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_sign, args=(bytes(key.key_id), queue))
    child.start()
    child_pid, pool_pid, raw = queue.get(timeout=30)
    child.join(timeout=30)
    assert child.exitcode == 0
    assert child_pid == pool_pid != os.getpid()  # the child's pool initialised for its own PID
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(key.public_key))
    public.verify(
        der,
        b"\x11" * 32,
        ec.ECDSA(
            __import__(
                "cryptography.hazmat.primitives.asymmetric.utils", fromlist=["Prehashed"]
            ).Prehashed(hashes.SHA256())
        ),
    )
    assert store._generation == parent_generation  # the parent's pool is untouched
    store.sign_digest(key_id=bytes(key.key_id), material=b"", digest=b"\x22" * 32)


def test_destroyed_key_is_unusable():
    key = key_generate(purpose=KeyPurpose.DYNAMIC_SESSION)
    key_destroy(key=key)
    assert key.state == KeyState.DESTROYED
    with pytest.raises(KeyUnusable):
        key_sign(key=key, data=b"x", scheme=Scheme.ECDSA_SHA512)
    # Even bypassing the record, the token no longer holds the key.
    with pytest.raises(KeyUnusable):
        keystore().sign_digest(key_id=bytes(key.key_id), material=b"", digest=b"\x00" * 32)


def test_a_key_deleted_behind_our_back_gives_a_clear_error():
    key = key_generate(purpose=KeyPurpose.OWNER_SIGNING)
    keystore().destroy(key_id=bytes(key.key_id))  # as if an operator deleted it in the token
    with pytest.raises(KeyUnusable, match="not in the HSM"):
        key_sign(key=key, data=b"x", scheme=Scheme.ECDSA_RFC6979_SHA256)


def test_rotation_keeps_old_signatures_verifiable():
    old = key_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    signature = key_sign(key=old, data=b"issued yesterday", scheme=Scheme.ECDSA_RFC6979_SHA256)
    new = key_rotate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    old.refresh_from_db()
    assert old.state == KeyState.RETIRED and new.state == KeyState.ACTIVE
    assert key_verify(
        key=old, data=b"issued yesterday", signature=signature, scheme=Scheme.ECDSA_RFC6979_SHA256
    )
    with pytest.raises(KeyUnusable):
        key_sign(key=old, data=b"x", scheme=Scheme.ECDSA_RFC6979_SHA256)
    key_sign(key=new, data=b"x", scheme=Scheme.ECDSA_RFC6979_SHA256)


# python-pkcs11 finalises a search left open by the restart in a destructor, which reports the
# module's "not initialised" as an unraisable exception; the pool itself recovers (asserted).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_recovers_from_a_restarted_module():
    key = key_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    store = keystore()
    store._lib.finalize()  # the module forgets every session and the login
    raw = store.sign_digest(key_id=bytes(key.key_id), material=b"", digest=b"\x33" * 32)
    assert len(raw) == 64


def test_many_threads_sign_safely():
    key = key_generate(purpose=KeyPurpose.ACCESS_TOKEN_SIGNING)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(key.public_key))
    results: list[tuple[bytes, bytes]] = []
    errors: list[BaseException] = []
    store = keystore()

    def worker(index: int) -> None:
        try:
            for n in range(2000):
                digest = (index * 10_000 + n).to_bytes(32, "big")
                results.append(
                    (
                        digest,
                        store.sign_digest(key_id=bytes(key.key_id), material=b"", digest=digest),
                    )
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 16_000
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    for digest, raw in results:
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    assert len({row["role"] for row in store.sessions()}) >= 8  # one signing session per thread


def _store_with(**changes) -> PKCS11KeyStore:
    return PKCS11KeyStore(dataclasses.replace(hsm_config(), **changes))


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"HSM_PIN": "wrong-pin"}, "rejected the PIN"),
        ({"HSM_MODULE": "/nonexistent/libpkcs11.so"}, "module not found"),
        ({"HSM_TOKEN_LABEL": "no-such-token"}, "No token labelled"),
        ({"HSM_PIN": "", "HSM_PIN_FILE": "/nonexistent"}, "No HSM PIN"),
    ],
)
def test_unusable_hsm_gives_a_clear_error(softhsm_token, tmp_path, environment, message):
    """In a fresh process (login state is per process): a one-line error, no traceback, no hang."""
    import subprocess
    import sys

    env = {
        **os.environ,
        "SA_VAR_DIR": str(tmp_path),
        "SOFTHSM2_CONF": softhsm_token["conf"],
        "HSM_BACKEND": "pkcs11",
        "HSM_MODULE": "/usr/lib/softhsm/libsofthsm2.so",
        "HSM_TOKEN_LABEL": softhsm_token["label"],
        "HSM_PIN": softhsm_token["pin"],
        **environment,
    }
    result = subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "manage.py", "hsm_status"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_readyz_reports_an_unusable_hsm_as_503(monkeypatch):
    import hsm.keystore as keystore_module

    monkeypatch.setattr(keystore_module, "_store", _store_with(module="/nonexistent/lib.so"))
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["checks"]["hsm"]["ok"] is False


def test_hsm_status_command_and_admin_page(admin_client):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("hsm_status", stdout=out)
    assert '"hardware_backed": true' in out.getvalue()
    page = admin_client.get("/admin/hsm/keyrecord/status/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "CKS_RO_USER_FUNCTIONS" in text and "SoftHSM" in text


def test_the_officer_resets_the_user_pin_from_a_command(softhsm_token, tmp_path):
    """hsm_reset_pin (officer login, C_InitPIN) in its own process; the old PIN stops working."""
    import subprocess
    import sys

    so_pin = tmp_path / "so.pin"
    so_pin.write_text(softhsm_token["so_pin"])
    base = {
        **os.environ,
        "SA_VAR_DIR": str(tmp_path),
        "SOFTHSM2_CONF": softhsm_token["conf"],
        "HSM_BACKEND": "pkcs11",
        "HSM_MODULE": "/usr/lib/softhsm/libsofthsm2.so",
        "HSM_TOKEN_LABEL": softhsm_token["label"],
        "HSM_SO_PIN_FILE": str(so_pin),
        "HSM_PIN": "",
        "HSM_PIN_FILE": str(tmp_path / "user.pin"),
    }

    def run(*args, **env):
        return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
            [sys.executable, "manage.py", *args], env={**base, **env},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    reset = run("hsm_reset_pin")
    assert reset.returncode == 0, reset.stderr
    new_pin = (tmp_path / "user.pin").read_text()
    assert run("hsm_status").returncode == 0  # logs in with the new PIN from the file
    assert "rejected the PIN" in run("hsm_status", HSM_PIN=softhsm_token["pin"]).stderr
    restore = tmp_path / "restore.pin"
    restore.write_text(softhsm_token["pin"])
    assert run("hsm_reset_pin", "--new-pin-file", str(restore)).returncode == 0  # as it was
    assert new_pin != softhsm_token["pin"]
    wrong = tmp_path / "wrong-so.pin"
    wrong.write_text("not-the-officer")
    refused = run("hsm_reset_pin", HSM_SO_PIN_FILE=str(wrong))
    assert refused.returncode == 1 and "rejected the officer PIN" in refused.stderr


def test_owner_signing_keys_are_not_rotated(acme):
    with pytest.raises(KeyUnusable, match="identity"):
        key_rotate(purpose=KeyPurpose.OWNER_SIGNING, owner=acme)


def test_admin_key_actions_are_scoped_and_audited(acme, globex, member):
    from django.test import Client

    from authority.models import AuditEvent, Role

    client = Client()
    client.force_login(member(acme, Role.ADMIN))
    page = client.get("/admin/hsm/keyrecord/").content.decode()
    assert "owner_signing/acme/" in page and "owner_signing/globex/" not in page
    foreign = globex.keys.get()
    client.post(
        "/admin/hsm/keyrecord/",
        {"action": "destroy", "_selected_action": [foreign.pk], "confirmed": "yes"},
    )
    foreign.refresh_from_db()
    assert foreign.state == KeyState.ACTIVE  # another tenant's key is out of reach
    dynamic = key_generate(purpose=KeyPurpose.DYNAMIC_SESSION, owner=acme)
    client.post(
        "/admin/hsm/keyrecord/",
        {"action": "destroy", "_selected_action": [dynamic.pk], "confirmed": "yes"},
    )
    dynamic.refresh_from_db()
    assert dynamic.state == KeyState.DESTROYED
    assert AuditEvent.objects.filter(action="key.destroy", owner=acme).exists()
