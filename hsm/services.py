"""Key services: generate, sign, verify, HMAC, rotate, destroy — each write audited."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from authority.models import Owner
from authority.principals import SYSTEM, Principal
from authority.services.audit import audit_record
from hsm.errors import KeyUnusable
from hsm.keystore import keystore
from hsm.models import HMAC_PURPOSES, KeyAlgorithm, KeyPurpose, KeyRecord, KeyState
from tokens.wire.signature import Scheme, Signature, raw_signature_bytes, verify


def key_generate(
    *, purpose: KeyPurpose, owner: Owner | None = None, actor: Principal = SYSTEM
) -> KeyRecord:
    """A new key in the key store and its record; the private half never leaves the store."""
    store = keystore()
    key_id = secrets.token_bytes(16)
    label = f"{purpose}/{owner.slug if owner else 'authority'}/{key_id.hex()[:12]}"
    public_key: bytes | None
    if purpose in HMAC_PURPOSES:
        material, public_key, algorithm = (
            store.generate_hmac(key_id=key_id, label=label),
            None,
            KeyAlgorithm.HMAC_SHA256,
        )
    else:
        public_key, material = store.generate_ec(key_id=key_id, label=label)
        algorithm = KeyAlgorithm.EC_P256
    with transaction.atomic():
        record = KeyRecord.objects.create(
            purpose=purpose,
            owner=owner,
            label=label,
            key_id=key_id,
            algorithm=algorithm,
            public_key=public_key,
            backend="pkcs11" if store.hardware_backed else "software",
            material=material or None,
        )
        audit_record(
            actor=actor, owner=owner, action="key.generate", object_type="key",
            object_id=label, detail={"purpose": str(purpose), "backend": record.backend},
        )  # fmt: skip
    return record


def _usable(key: KeyRecord, *, for_signing: bool) -> None:
    if key.state == KeyState.DESTROYED:
        raise KeyUnusable("The key has been destroyed.")
    if for_signing and key.state != KeyState.ACTIVE:
        raise KeyUnusable("A retired key verifies but no longer signs.")


def key_sign(*, key: KeyRecord, data: bytes, scheme: Scheme) -> bytes:
    """NeoFS signature bytes of `data` (65-byte `0x04‖r‖s` for ECDSA_SHA512, else `r‖s`).

    The digest is made here and signed with CKM_ECDSA (SoftHSM2 has no CKM_ECDSA_SHA*). An HSM's
    k is random, so ECDSA_RFC6979_SHA256 signatures from it verify like deterministic ones but are
    not reproducible byte for byte.
    """
    _usable(key, for_signing=True)
    if key.algorithm != KeyAlgorithm.EC_P256:
        raise KeyUnusable("Not a signing key.")
    if scheme == Scheme.ECDSA_SHA512:
        digest = hashlib.sha512(data).digest()
    elif scheme == Scheme.ECDSA_RFC6979_SHA256:
        digest = hashlib.sha256(data).digest()
    else:
        raise KeyUnusable(f"Scheme {scheme!r} is verify-only.")
    raw = keystore().sign_digest(key_id=bytes(key.key_id), material=_material(key), digest=digest)
    return raw_signature_bytes(raw, scheme)


def key_verify(*, key: KeyRecord, data: bytes, signature: bytes, scheme: Scheme) -> bool:
    """Verification needs only the public key: active and retired keys verify."""
    _usable(key, for_signing=False)
    if not key.public_key:
        return False
    return verify(data, Signature(bytes(key.public_key), signature, scheme))


def key_hmac(*, key: KeyRecord, data: bytes) -> bytes:
    """HMAC-SHA256 computed inside the key store (the secret never leaves it)."""
    _usable(key, for_signing=False)
    if key.algorithm != KeyAlgorithm.HMAC_SHA256:
        raise KeyUnusable("Not an HMAC key.")
    return keystore().hmac(key_id=bytes(key.key_id), material=_material(key), data=data)


def key_rotate(
    *, purpose: KeyPurpose, owner: Owner | None = None, actor: Principal = SYSTEM
) -> KeyRecord:
    """A new active key; the previous active ones retire (they keep verifying). Owner signing
    keys are not rotated: an owner's NeoFS identity (its owner id) is derived from its key."""
    if purpose == KeyPurpose.OWNER_SIGNING:
        raise KeyUnusable("An owner's signing key is its NeoFS identity; it is not rotated.")
    new = key_generate(purpose=purpose, owner=owner, actor=actor)
    with transaction.atomic():
        retired = (
            KeyRecord.objects.select_for_update()
            .filter(purpose=purpose, owner=owner, state=KeyState.ACTIVE)
            .exclude(pk=new.pk)
        )
        labels = list(retired.values_list("label", flat=True))
        retired.update(state=KeyState.RETIRED, retired_at=timezone.now())
        _clear_key_caches()  # this process sees the new key at once...
        transaction.on_commit(_clear_key_caches)  # ...and not a stale one read before commit
        audit_record(
            actor=actor, owner=owner, action="key.rotate", object_type="key",
            object_id=new.label, detail={"retired": labels},
        )  # fmt: skip
    return new


def key_destroy(*, key: KeyRecord, actor: Principal = SYSTEM) -> KeyRecord:
    """Destroys the key in the store; the record stays (destroyed) for audit."""
    if key.state == KeyState.DESTROYED:
        return key
    keystore().destroy(key_id=bytes(key.key_id))
    with transaction.atomic():
        key.state = KeyState.DESTROYED
        key.destroyed_at = timezone.now()
        key.material = None
        key.save(update_fields=["state", "destroyed_at", "material"])
        audit_record(
            actor=actor, owner=key.owner, action="key.destroy", object_type="key",
            object_id=key.label,
        )  # fmt: skip
    return key


def _material(key: KeyRecord) -> bytes:
    return bytes(key.material) if key.material else b""


def key_active_or_generate(*, purpose: KeyPurpose, owner: Owner | None = None) -> KeyRecord:
    """The active key for a purpose, generated on first need (authority-wide keys)."""
    from hsm.selectors import key_active_cache_clear, key_active_cached

    try:
        return key_active_cached(purpose=purpose, owner=owner)
    except KeyUnusable:
        key_generate(purpose=purpose, owner=owner)
        key_active_cache_clear()
        return key_active_cached(purpose=purpose, owner=owner)


def _clear_key_caches() -> None:
    from hsm.selectors import key_active_cache_clear

    key_active_cache_clear()
