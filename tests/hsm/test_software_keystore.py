"""The software key store: same interface, encrypted at rest, and always labelled as not
hardware-backed."""

from __future__ import annotations

import pytest
from django.test import Client

from hsm.conf import SOFTWARE_KEYSTORE, HSMConfig
from hsm.errors import KeyUnusable
from hsm.keystore.software import SoftwareKeyStore
from tokens.wire.signature import Scheme, Signature, raw_signature_bytes, verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def store() -> SoftwareKeyStore:
    config = HSMConfig(SOFTWARE_KEYSTORE, "", "", "", "", software_key="test master key")
    return SoftwareKeyStore(config)


def test_signs_verifiably_and_keeps_keys_encrypted(store):
    import hashlib

    public, material = store.generate_ec(key_id=b"k1", label="k1")
    digest = hashlib.sha512(b"body").digest()
    raw = store.sign_digest(key_id=b"k1", material=material, digest=digest)
    signature = raw_signature_bytes(raw, Scheme.ECDSA_SHA512)
    assert verify(b"body", Signature(public, signature, Scheme.ECDSA_SHA512))
    assert len(material) > 32 and public[1:] not in material  # ciphertext, not the key


def test_material_is_bound_to_its_key_id(store):
    _, material = store.generate_ec(key_id=b"k1", label="k1")
    with pytest.raises(Exception, match="cannot decrypt"):
        store.sign_digest(key_id=b"k2", material=material, digest=b"\x00" * 32)


def test_hmac_and_destroy(store):
    material = store.generate_hmac(key_id=b"h", label="h")
    assert len(store.hmac(key_id=b"h", material=material, data=b"x")) == 32
    store.destroy(key_id=b"h")
    with pytest.raises(KeyUnusable):
        store.hmac(key_id=b"h", material=material, data=b"x")


def test_readiness_labels_it_not_hardware_backed(monkeypatch, store):
    import hsm.keystore as keystore_module

    monkeypatch.setattr(keystore_module, "_store", store)
    body = Client().get("/readyz").json()
    assert body["checks"]["hsm"]["hardware_backed"] is False
    assert body["checks"]["hsm"]["warning"] == "not hardware-backed"
    assert store.status()["label"] == "software key store (not hardware-backed)"
