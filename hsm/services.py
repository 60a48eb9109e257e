"""Key services: generate, sign, verify, HMAC, rotate, destroy — each write audited."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from authority.caches import Event, invalidate
from authority.models import Owner
from authority.principals import SYSTEM, Principal
from authority.services.audit import AuditAction, audit_record
from hsm.errors import ActiveKeyExists, KeyUnusable
from hsm.keystore import keystore
from hsm.models import HMAC_PURPOSES, KeyAlgorithm, KeyPurpose, KeyRecord, KeyState
from hsm.selectors import key_active_cached, key_active_get
from tokens.wire.signature import Scheme, Signature, raw_signature_bytes, verify


@dataclass(frozen=True)
class _StoredKey:
    """A key just made in the key store, before its record exists."""

    purpose: KeyPurpose
    owner: Owner | None
    key_id: bytes
    label: str
    algorithm: KeyAlgorithm
    public_key: bytes | None
    material: bytes
    backend: str


def _store_generate(purpose: KeyPurpose, owner: Owner | None) -> _StoredKey:
    store = keystore()
    key_id = secrets.token_bytes(16)
    label = f"{purpose}/{owner.slug if owner else 'authority'}/{key_id.hex()[:12]}"
    backend = "pkcs11" if store.hardware_backed else "software"
    if purpose in HMAC_PURPOSES:
        material = store.generate_hmac(key_id=key_id, label=label)
        return _StoredKey(
            purpose, owner, key_id, label, KeyAlgorithm.HMAC_SHA256, None, material, backend
        )
    public_key, material = store.generate_ec(key_id=key_id, label=label)
    return _StoredKey(
        purpose, owner, key_id, label, KeyAlgorithm.EC_P256, public_key, material, backend
    )


@contextmanager
def _recording(stored: _StoredKey) -> Iterator[None]:
    """The transaction that records `stored`. When the database refuses the record (another
    authority key of its purpose is active), the key goes from the store again — it never signed
    or keyed anything — and the IntegrityError goes on to the caller."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        keystore().destroy(key_id=stored.key_id)
        raise


def _record(stored: _StoredKey) -> KeyRecord:
    return KeyRecord.objects.create(
        purpose=stored.purpose,
        owner=stored.owner,
        label=stored.label,
        key_id=stored.key_id,
        algorithm=stored.algorithm,
        public_key=stored.public_key,
        backend=stored.backend,
        material=stored.material or None,
    )


def key_generate(
    *, purpose: KeyPurpose, owner: Owner | None = None, actor: Principal = SYSTEM
) -> KeyRecord:
    """A new key in the key store and its record; the private half never leaves the store.

    An authority key (`AUTHORITY_PURPOSES`) has one active key at a time: when another process
    made one first, the new key is destroyed again and ActiveKeyExists raised."""
    stored = _store_generate(purpose, owner)
    try:
        with _recording(stored):
            record = _record(stored)
            audit_record(
                actor=actor, owner=owner, action=AuditAction.KEY_GENERATE, object_type="key",
                object_id=stored.label, detail={"purpose": str(purpose), "backend": record.backend},
            )  # fmt: skip
    except IntegrityError:
        raise ActiveKeyExists(f"An active {purpose} key exists already; rotate it.") from None
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
    """A new active key; the previous active ones retire (they keep verifying), in the same
    transaction, so there is never a moment without one or with two. Of two rotations at once,
    one wins and the other answers with the winner's key. Owner signing keys are not rotated:
    an owner's NeoFS identity (its owner id) is derived from its key."""
    if purpose == KeyPurpose.OWNER_SIGNING:
        raise KeyUnusable("An owner's signing key is its NeoFS identity; it is not rotated.")
    stored = _store_generate(purpose, owner)
    try:
        with _recording(stored):
            retired = KeyRecord.objects.select_for_update().filter(
                purpose=purpose, owner=owner, state=KeyState.ACTIVE
            )
            labels = list(retired.values_list("label", flat=True))
            retired.update(state=KeyState.RETIRED, retired_at=timezone.now())
            new = _record(stored)
            audit_record(
                actor=actor, owner=owner, action=AuditAction.KEY_ROTATE, object_type="key",
                object_id=new.label, detail={"retired": labels},
            )  # fmt: skip
            _announce(Event.KEY_ROTATED, purpose=str(purpose))
    except IntegrityError:  # a rotation in another transaction made its key first
        return key_active_get(purpose=purpose, owner=owner)
    return new


def _announce(event: Event, **facts: str | int) -> None:
    """Evicts from this process's caches now, and again when the transaction commits (a read
    before the commit would cache the old state again)."""
    invalidate(event, **facts)
    transaction.on_commit(lambda: invalidate(event, **facts))


def key_destroy(*, key: KeyRecord, actor: Principal = SYSTEM) -> KeyRecord:
    """Destroys the key in the store; the record stays (destroyed) for audit. What this process
    cached of it goes at once (authority.caches); other processes drop it within KEY_TTL."""
    if key.state == KeyState.DESTROYED:
        return key
    keystore().destroy(key_id=bytes(key.key_id))
    with transaction.atomic():
        _announce(
            Event.KEY_DESTROYED, key_pk=key.pk, kid=bytes(key.key_id).hex(), purpose=key.purpose
        )
        key.state = KeyState.DESTROYED
        key.destroyed_at = timezone.now()
        key.material = None
        key.save(update_fields=["state", "destroyed_at", "material"])
        audit_record(
            actor=actor, owner=key.owner, action=AuditAction.KEY_DESTROY, object_type="key",
            object_id=key.label,
        )  # fmt: skip
    return key


def _material(key: KeyRecord) -> bytes:
    return bytes(key.material) if key.material else b""


def key_active_or_generate(*, purpose: KeyPurpose, owner: Owner | None = None) -> KeyRecord:
    """The active key for a purpose, generated on first need (authority-wide keys). Processes
    that need it at the same moment all end up with the one that was recorded first."""
    try:
        return key_active_cached(purpose=purpose, owner=owner)
    except KeyUnusable:
        try:
            key_generate(purpose=purpose, owner=owner)
        except ActiveKeyExists:
            pass  # another process made it first: use that one
        invalidate(Event.KEY_ROTATED, purpose=str(purpose))
        return key_active_cached(purpose=purpose, owner=owner)
