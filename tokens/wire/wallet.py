"""An owner's own key, as neo-go and the NeoFS/FrostFS CLIs keep it: a WIF string, a PEM file, or
a NEP-6 wallet whose accounts hold NEP-2 encrypted keys.

- WIF: base58check(0x80 ‖ private key (32) ‖ 0x01) — the compressed-key form N3 uses.
- NEP-2: base58check(0x01 0x42 0xE0 ‖ address hash (4) ‖ AES-256-ECB(key = scrypt half 2,
  private key XOR scrypt half 1)); scrypt over the NFC password, salted with the address hash
  (the first 4 bytes of SHA256(SHA256(address))), N=16384 r=8 p=8 unless the wallet says otherwise.
- NEP-6: JSON `{"version", "scrypt": {"n", "r", "p"}, "accounts": [{"address", "key", "isDefault",
  ...}]}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from tokens.wire.errors import WireError
from tokens.wire.ids import OwnerID
from tokens.wire.signature import SoftwareSigner

_WIF_VERSION = 0x80
_NEP2_PREFIX = b"\x01\x42\xe0"


@dataclass(frozen=True, slots=True)
class ScryptParameters:
    n: int = 16384
    r: int = 8
    p: int = 8


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


# A WIF is 38 bytes (version, key, compression flag, checksum): 52 characters. Longer text is
# refused before decoding, whose cost is quadratic in the length.
_BASE58CHECK_MAX_CHARS = 128


def _base58check_decode(text: str, field: str) -> bytes:
    text = text.strip()
    if len(text) > _BASE58CHECK_MAX_CHARS:
        raise WireError(field, "too long for base58check")
    try:
        raw = base58.b58decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise WireError(field, "invalid base58") from None
    if len(raw) < 5 or not hmac.compare_digest(_checksum(raw[:-4]), raw[-4:]):
        raise WireError(field, "base58check checksum mismatch")
    return raw[:-4]


def _base58check_encode(payload: bytes) -> str:
    return base58.b58encode(payload + _checksum(payload)).decode()


def _private_key(secret: bytes, field: str) -> ec.EllipticCurvePrivateKey:
    value = int.from_bytes(secret, "big")
    try:
        return ec.derive_private_key(value, ec.SECP256R1())
    except ValueError:
        raise WireError(field, "not a P-256 private key") from None


def _secret_of(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_numbers().private_value.to_bytes(32, "big")


def n3_address(signer: SoftwareSigner) -> str:
    """The N3 address of a key: the base58 owner id NeoFS uses."""
    return str(OwnerID.from_public_key(signer.public_key()))


def signer_from_wif(wif: str) -> SoftwareSigner:
    raw = _base58check_decode(wif, "wif")
    if len(raw) != 34 or raw[0] != _WIF_VERSION or raw[33] != 0x01:
        raise WireError("wif", "not a compressed-key WIF")
    return SoftwareSigner(_private_key(raw[1:33], "wif"))


def wif_from_signer(signer: SoftwareSigner) -> str:
    return _base58check_encode(bytes([_WIF_VERSION]) + _secret_of(signer.private_key) + b"\x01")


def signer_from_pem(pem: bytes, password: bytes | None = None) -> SoftwareSigner:
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError) as exc:
        raise WireError("pem", f"unreadable private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise WireError("pem", "not a P-256 (secp256r1) private key")
    return SoftwareSigner(key)


def _nep2_halves(
    password: str, address_hash: bytes, scrypt: ScryptParameters
) -> tuple[bytes, bytes]:
    derived = Scrypt(salt=address_hash, length=64, n=scrypt.n, r=scrypt.r, p=scrypt.p).derive(
        unicodedata.normalize("NFC", password).encode()
    )
    return derived[:32], derived[32:]


def _address_hash(address: str) -> bytes:
    return hashlib.sha256(hashlib.sha256(address.encode()).digest()).digest()[:4]


def nep2_encrypt(
    signer: SoftwareSigner,
    password: str,
    *,
    scrypt: ScryptParameters = ScryptParameters(),  # noqa: B008 - frozen, immutable
    address_of: Callable[[SoftwareSigner], str] = n3_address,
) -> str:
    address_hash = _address_hash(address_of(signer))
    half1, half2 = _nep2_halves(password, address_hash, scrypt)
    plain = bytes(a ^ b for a, b in zip(_secret_of(signer.private_key), half1, strict=True))
    encryptor = Cipher(algorithms.AES256(half2), modes.ECB()).encryptor()  # noqa: S305 - NEP-2 fixes ECB over one key-sized block
    return _base58check_encode(
        _NEP2_PREFIX + address_hash + encryptor.update(plain) + encryptor.finalize()
    )


def nep2_decrypt(
    text: str,
    password: str,
    *,
    scrypt: ScryptParameters = ScryptParameters(),  # noqa: B008 - frozen, immutable
    address_of: Callable[[SoftwareSigner], str] = n3_address,
) -> SoftwareSigner:
    """The key, or WireError("password", …) when the address check fails (a wrong password)."""
    raw = _base58check_decode(text, "nep2")
    if len(raw) != 39 or raw[:3] != _NEP2_PREFIX:
        raise WireError("nep2", "not a NEP-2 encrypted key")
    address_hash, encrypted = raw[3:7], raw[7:]
    half1, half2 = _nep2_halves(password, address_hash, scrypt)
    decryptor = Cipher(algorithms.AES256(half2), modes.ECB()).decryptor()  # noqa: S305 - NEP-2 fixes ECB over one key-sized block
    plain = decryptor.update(encrypted) + decryptor.finalize()
    secret = bytes(a ^ b for a, b in zip(plain, half1, strict=True))
    try:
        signer = SoftwareSigner(_private_key(secret, "nep2"))
    except WireError:
        raise WireError("password", "wrong password for this key") from None
    if not hmac.compare_digest(_address_hash(address_of(signer)), address_hash):
        raise WireError("password", "wrong password for this key")
    return signer


@dataclass(frozen=True, slots=True)
class WalletAccount:
    address: str
    key: str  # NEP-2
    is_default: bool


@dataclass(frozen=True, slots=True)
class Wallet:
    """A NEP-6 wallet: its accounts' encrypted keys and the scrypt parameters they use."""

    accounts: tuple[WalletAccount, ...]
    scrypt: ScryptParameters = ScryptParameters()  # noqa: RUF009 - frozen, immutable

    @classmethod
    def from_json(cls, text: str | bytes) -> Wallet:
        try:
            document: Any = json.loads(text)
            params = document.get("scrypt") or {}
            accounts = tuple(
                WalletAccount(
                    address=str(account["address"]),
                    key=str(account["key"]),
                    is_default=bool(account.get("isDefault")),
                )
                for account in document["accounts"]
                if account.get("key")
            )
            scrypt = ScryptParameters(
                n=int(params.get("n", 16384)), r=int(params.get("r", 8)), p=int(params.get("p", 8))
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WireError("wallet", f"not a NEP-6 wallet: {exc}") from None
        if not accounts:
            raise WireError("wallet", "the wallet has no account with a key")
        return cls(accounts=accounts, scrypt=scrypt)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": "1.0",
                "scrypt": {"n": self.scrypt.n, "r": self.scrypt.r, "p": self.scrypt.p},
                "accounts": [
                    {
                        "address": account.address,
                        "label": "",
                        "isDefault": account.is_default,
                        "lock": False,
                        "key": account.key,
                        "contract": None,
                        "extra": None,
                    }
                    for account in self.accounts
                ],
                "extra": None,
            },
            indent=2,
        )

    def account(self, address: str | None = None) -> WalletAccount:
        """The named account, else the default one, else the only one."""
        if address:
            for account in self.accounts:
                if account.address == address:
                    return account
            raise WireError("address", f"no account {address} in the wallet")
        defaults = [a for a in self.accounts if a.is_default] or list(self.accounts)
        if len(defaults) != 1:
            raise WireError("address", "the wallet has several accounts: name one")
        return defaults[0]

    def signer(self, password: str, address: str | None = None) -> SoftwareSigner:
        account = self.account(address)
        signer = nep2_decrypt(account.key, password, scrypt=self.scrypt)
        if n3_address(signer) != account.address:
            raise WireError("address", "the account's key does not derive its address")
        return signer


def wallet_create(
    signer: SoftwareSigner,
    password: str,
    *,
    scrypt: ScryptParameters = ScryptParameters(),  # noqa: B008 - frozen, immutable
) -> Wallet:
    """A one-account NEP-6 wallet holding `signer`'s key encrypted under `password`."""
    return Wallet(
        accounts=(
            WalletAccount(
                address=n3_address(signer),
                key=nep2_encrypt(signer, password, scrypt=scrypt),
                is_default=True,
            ),
        ),
        scrypt=scrypt,
    )
