"""The PKCS#11 key store: a per-process session pool over python-pkcs11.

How it treats the token (seed 002, PKCS#11 sessions):
- The library is loaded and initialised lazily, and again in a forked child (the PID is checked on
  every use): gunicorn and Celery prefork workers each open their own sessions.
- One *anchor* session per process performs the normal-user login. Login state is shared by all of
  an application's sessions, so every other session is opened without a PIN and is already in a
  USER_FUNCTIONS state; the anchor is never closed (closing a logged-in session logs out them all).
- Each thread signs on its own read-only session (CKS_RO_USER_FUNCTIONS); key generation and
  destruction use one read-write session (CKS_RW_USER_FUNCTIONS).
- python-pkcs11 calls C_Initialize without OS locking, and SoftHSM2 then crashes under concurrent
  calls. So every call into the module holds one process-wide lock: threads are safe, and the
  pool scales by processes, not threads.
- A stale handle or a restarted module (session handle invalid, not initialised, device removed)
  re-initialises and retries once; anything still failing raises HSMUnavailable.
- A key not found re-initialises and looks once more before it is KeyUnusable: SoftHSM2's view
  of the token misses, for good, an object another process stored at the moment this process
  stored one (its object-file index), and only a new C_Initialize reads the token afresh.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.types import Key, Session, SignMixin, Token
from pkcs11.util.ec import encode_named_curve_parameters

from hsm.conf import HSMConfig, softhsm_conf
from hsm.errors import HSMUnavailable, KeyUnusable

if TYPE_CHECKING:
    # The loaded module's class; at run time `pkcs11.lib` is a function returning one.
    from pkcs11._pkcs11 import lib as Library

logger = logging.getLogger(__name__)
T = TypeVar("T")

_RECOVERABLE = (
    p11.SessionHandleInvalid,
    p11.SessionClosed,
    p11.UserNotLoggedIn,
    p11.DeviceRemoved,
    p11.TokenNotPresent,
    p11.GeneralError,
    p11.ObjectHandleInvalid,
    p11.KeyHandleInvalid,
)
_P256 = encode_named_curve_parameters("secp256r1")


def _not_initialised(exc: Exception) -> bool:
    """CKR_CRYPTOKI_NOT_INITIALIZED: python-pkcs11 has no class for it, only this message."""
    return "not initialized" in str(exc).lower()


def pkcs11_library(module: str) -> Library:
    """Loads (or finds already loaded) and initialises the PKCS#11 module. SoftHSM2 reads
    SOFTHSM2_CONF then: unless the environment names a configuration, it is the project's own."""
    os.environ.setdefault("SOFTHSM2_CONF", str(softhsm_conf()))
    return pkcs11.lib(module)


def _signing(key: Key) -> SignMixin:
    """The key as python-pkcs11 made it, with its sign operation (CKA_SIGN set)."""
    if not isinstance(key, SignMixin):
        raise KeyUnusable("The key cannot sign.")
    return key


def _compress(ec_point: bytes) -> bytes:
    """CKA_EC_POINT is a DER OCTET STRING around an uncompressed point; return the 33-byte form."""
    point = ec_point[2:] if ec_point[:1] == b"\x04" and len(ec_point) == 67 else ec_point
    if len(point) != 65 or point[0] != 4:
        raise HSMUnavailable("The HSM returned an unexpected EC point encoding.")
    x, y = point[1:33], point[33:]
    return bytes([2 + (y[-1] & 1)]) + x


class PKCS11KeyStore:
    """Keys in a PKCS#11 token, found by CKA_ID."""

    hardware_backed = True

    def __init__(self, config: HSMConfig) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._pid: int | None = None
        self._lib: Library | None = None
        self._token: Token | None = None
        self._anchor: Session | None = None
        self._rw: Session | None = None
        self._generation = 0
        self._destroyed = 0
        # Per thread: `session` (generation, Session), `keys` ((generation, destroyed), cache).
        self._local = threading.local()
        self._sessions: dict[int, tuple[str, Session]] = {}  # thread id -> (state, session)
        self.last_error: str = ""

    # -- the pool ----------------------------------------------------------------------------

    def _ensure(self) -> Token:
        """Loads and logs in for this process (again after a fork or a reset); returns the token.
        Holds the lock."""
        if self._pid == os.getpid() and self._anchor is not None and self._token is not None:
            return self._token
        inherited = self._lib is not None and self._pid != os.getpid()
        self._sessions.clear()
        self._anchor = self._rw = self._token = None
        self._generation += 1
        if not self.config.module or not os.path.exists(self.config.module):
            raise HSMUnavailable(f"PKCS#11 module not found: {self.config.module or '(unset)'}")
        try:
            if self._lib is None:
                self._lib = pkcs11_library(self.config.module)
            elif inherited or not self._lib.initialized:
                self._reinitialise(self._lib)
            token = self._lib.get_token(token_label=self.config.token_label)
        except p11.NoSuchToken:
            raise HSMUnavailable(f"No token labelled {self.config.token_label!r}.") from None
        except (p11.PKCS11Error, OSError, RuntimeError) as exc:
            raise HSMUnavailable(f"Cannot load the PKCS#11 module: {type(exc).__name__}") from None
        self._anchor = self._open(token, rw=False, login=True)
        self._token = token
        self._pid = os.getpid()
        return token

    @staticmethod
    def _reinitialise(library: Library) -> None:
        try:
            library.finalize()
        except p11.PKCS11Error:
            pass  # a child's inherited library state may already be gone
        library.initialize()

    def _open(self, token: Token, *, rw: bool, login: bool = False) -> Session:
        if not login:
            return token.open(rw=rw)
        if not self.config.pin:
            raise HSMUnavailable("No HSM PIN configured (HSM_PIN or HSM_PIN_FILE).")
        try:
            return token.open(rw=rw, user_pin=self.config.pin)
        except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange):
            raise HSMUnavailable("The HSM rejected the PIN.") from None
        except p11.PinLocked:
            raise HSMUnavailable("The HSM user PIN is locked.") from None
        except p11.UserAlreadyLoggedIn:
            return token.open(rw=rw)  # another session of ours logged in first

    def _session(self, token: Token, rw: bool) -> Session:
        if rw:
            if self._rw is None:
                self._rw = self._open(token, rw=True)
            return self._rw
        cached: tuple[int, Session] | None = getattr(self._local, "session", None)
        if cached is None or cached[0] != self._generation:
            session = self._open(token, rw=False)
            self._local.session = (self._generation, session)
            self._sessions[threading.get_ident()] = ("CKS_RO_USER_FUNCTIONS", session)
            return session
        return cached[1]

    def _reset(self, reason: str) -> None:
        logger.warning("HSM session pool reset: %s", reason)
        self.last_error = reason
        self._anchor = None
        self._pid = None
        if self._lib is not None:
            try:
                self._reinitialise(self._lib)
            except p11.PKCS11Error:
                self._lib = None

    def run(self, operation: Callable[[Session], T], *, rw: bool = False) -> T:
        """Runs `operation(session)` under the process lock, recovering once from stale state."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    token = self._ensure()
                    return operation(self._session(token, rw))
                except HSMUnavailable as exc:
                    self.last_error = exc.detail
                    raise
                except p11.NoSuchKey:
                    if attempt == 2:
                        raise KeyUnusable(
                            "The key is not in the HSM (destroyed or deleted)."
                        ) from None
                    # Another process may have stored it while this one stored an object of its
                    # own: SoftHSM2 then never lists it here until the module starts again.
                    self._reset("a key was not found; reading the token again")
                except _RECOVERABLE as exc:
                    if attempt == 2:
                        self.last_error = type(exc).__name__
                        raise HSMUnavailable(f"HSM error: {type(exc).__name__}") from None
                    self._reset(type(exc).__name__)
                except p11.PKCS11Error as exc:
                    if attempt == 1 and _not_initialised(exc):
                        self._reset("module not initialised (restarted?)")
                        continue
                    self.last_error = type(exc).__name__
                    raise HSMUnavailable(f"HSM error: {type(exc).__name__}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            if self._lib is not None and self._pid == os.getpid():
                try:
                    self._lib.finalize()
                except p11.PKCS11Error:
                    pass
            self._lib = self._anchor = self._rw = self._token = None
            self._pid = None

    # -- key operations ------------------------------------------------------------------------

    def generate_ec(self, *, key_id: bytes, label: str) -> tuple[bytes, bytes]:
        def generate(session: Session) -> bytes:
            params = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: _P256}, local=True
            )
            public, _ = params.generate_keypair(
                store=True,
                id=key_id,
                label=label,
                public_template={Attribute.VERIFY: True},
                private_template={
                    Attribute.SIGN: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.PRIVATE: True,
                },
            )
            return _compress(public[Attribute.EC_POINT])

        return self.run(generate, rw=True), b""

    def generate_hmac(self, *, key_id: bytes, label: str) -> bytes:
        def generate(session: Session) -> None:
            session.generate_key(
                KeyType.GENERIC_SECRET,
                256,
                id=key_id,
                label=label,
                store=True,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                template={
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.PRIVATE: True,
                },
            )

        self.run(generate, rw=True)
        return b""

    def _key(self, session: Session, kind: ObjectClass, key_id: bytes) -> SignMixin:
        """The key's object on this thread's session, found once (C_FindObjects is costly)."""
        version = (self._generation, self._destroyed)
        cache: tuple[tuple[int, int], dict[tuple[ObjectClass, bytes], SignMixin]] | None
        cache = getattr(self._local, "keys", None)
        if cache is None or cache[0] != version:
            cache = (version, {})
            self._local.keys = cache
        key = cache[1].get((kind, key_id))
        if key is None:
            found = session.get_key(object_class=kind, id=key_id)
            key = cache[1][(kind, key_id)] = _signing(found)
        return key

    def sign_digest(self, *, key_id: bytes, material: bytes, digest: bytes) -> bytes:
        def sign(session: Session) -> bytes:
            key = self._key(session, ObjectClass.PRIVATE_KEY, key_id)
            return bytes(key.sign(digest, mechanism=Mechanism.ECDSA))

        return self.run(sign)

    def hmac(self, *, key_id: bytes, material: bytes, data: bytes) -> bytes:
        def mac(session: Session) -> bytes:
            key = self._key(session, ObjectClass.SECRET_KEY, key_id)
            return bytes(key.sign(data, mechanism=Mechanism.SHA256_HMAC))

        return self.run(mac)

    def key_attributes(self, *, key_id: bytes, secret: bool) -> dict[str, bool]:
        """CKA_SENSITIVE and CKA_EXTRACTABLE of a private or secret key (tests and the admin)."""

        def read(session: Session) -> dict[str, bool]:
            kind = ObjectClass.SECRET_KEY if secret else ObjectClass.PRIVATE_KEY
            key = session.get_key(object_class=kind, id=key_id)
            return {
                "sensitive": bool(key[Attribute.SENSITIVE]),
                "extractable": bool(key[Attribute.EXTRACTABLE]),
            }

        return self.run(read)

    def destroy(self, *, key_id: bytes) -> None:
        def destroy(session: Session) -> None:
            for obj in list(session.get_objects({Attribute.ID: key_id})):
                obj.destroy()
            # Every thread's cached key objects are dropped; other processes find out on their
            # next call (handle invalid, then no such key).
            self._destroyed += 1

        self.run(destroy, rw=True)

    def status(self) -> dict[str, object]:
        def read(session: Session) -> dict[str, object]:
            token = session.token
            slot = token.slot
            library = self._lib
            if library is None:  # loaded by _ensure() before any operation runs
                raise HSMUnavailable("The PKCS#11 module is not loaded.")
            return {
                "backend": "pkcs11",
                "hardware_backed": True,
                "module": self.config.module,
                "library": f"{library.library_description} {library.library_version}",
                "manufacturer": library.manufacturer_id,
                "token_label": token.label,
                "token_serial": token.serial.decode()
                if isinstance(token.serial, bytes)
                else token.serial,
                "token_model": getattr(token, "model", ""),
                "mechanisms": sorted(m.name for m in slot.get_mechanisms() if hasattr(m, "name")),
                "pid": os.getpid(),
                "sessions": self.sessions(),
            }

        return self.run(read)

    def sessions(self) -> list[dict[str, object]]:
        """This process's open sessions and their PKCS#11 states (as the pool opened them:
        python-pkcs11 does not expose C_GetSessionInfo)."""
        rows: list[dict[str, object]] = []
        if self._anchor is not None:
            rows.append({"role": "login anchor", "state": "CKS_RO_USER_FUNCTIONS"})
        if self._rw is not None:
            rows.append({"role": "key management", "state": "CKS_RW_USER_FUNCTIONS"})
        for thread_id, (state, _) in sorted(self._sessions.items()):
            rows.append({"role": f"signing (thread {thread_id})", "state": state})
        return rows
