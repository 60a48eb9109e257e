"""OAuth2 clients of django-oauth-toolkit (service accounts), fast and safe (issue 17):

- **Client secrets** are random strings of at least 256 bits, so a password hash's deliberate
  slowness buys nothing against guessing them: they are stored as HMAC-SHA256 under a numbered
  pepper (`hmac_sha256$<pepper number>$<hex>`, as NetBox stores API tokens), which costs
  microseconds instead of PBKDF2's ~0.5 s. Secrets stored before (PBKDF2, or any Django hasher)
  still verify, and are re-stored under the current pepper on their first successful use; so is
  a secret under a pepper that is no longer the current one. An unknown client id costs the same
  hash as a known one.
- **Tokens at rest**: django-oauth-toolkit's RFC 9700 token storage (settings.py) keeps only the
  SHA-256 checksum of access and refresh tokens; the tokens themselves are 256-bit random
  strings (`token_generate`), so the checksum can be neither reversed nor guessed.
- **Ending tokens**: a user's password change and a member's removal end its access and refresh
  tokens (`oauth2_tokens_end`).
- **Throttle** of `/o/token/` per client id and per client address (`oauth2_token_throttle`).
- **Authentication cache**: a validated bearer token's principal is kept per process for at most
  OAUTH2_PRINCIPAL_TTL seconds (authority.caches), and dropped at once in this process when the
  token is deleted (revoked, ended or swept).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.contrib.auth.hashers import (
    BasePasswordHasher,
    check_password,
    identify_hasher,
    make_password,
    mask_hash,
)
from django.db import connections, router, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
)
from oauth2_provider.oauth2_validators import OAuth2Validator

from authority import ratelimit
from authority.caches import Event, registry
from authority.conf import authority_settings
from authority.errors import Throttled
from authority.lru import LRU

# --- client secrets -------------------------------------------------------------------------

ALGORITHM = "hmac_sha256"
SECRET_BYTES = 32  # 256 bits from the CSPRNG
# Longer secrets are refused before any hashing (a legacy PBKDF2 secret would otherwise hash
# whatever length it is sent). DOT's own secrets are 128 characters.
MAX_CLIENT_SECRET = 255
MAX_CLIENT_ID = 100  # oauth2_provider.Application.client_id's max_length


def client_secret_generate() -> str:
    """A new client secret: 256 bits from the CSPRNG, URL-safe (DOT's CLIENT_SECRET_GENERATOR
    makes 128 characters of 62, ~762 bits, which is fine too)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def token_generate(request: Any = None) -> str:
    """An access or refresh token (DOT's ACCESS_TOKEN_GENERATOR / REFRESH_TOKEN_GENERATOR):
    256 bits from the CSPRNG, so its stored SHA-256 checksum cannot be reversed by guessing."""
    return secrets.token_urlsafe(SECRET_BYTES)


def _peppers() -> dict[int, bytes]:
    """The peppers by number: CLIENT_SECRET_PEPPERS, else one derived from SECRET_KEY for this
    purpose alone (as the audit key is)."""
    configured = authority_settings.CLIENT_SECRET_PEPPERS
    if configured:
        return {int(number): str(pepper).encode() for number, pepper in configured.items()}
    derived = hmac.digest(
        str(settings.SECRET_KEY).encode(), b"session-authority:client-secret-pepper", "sha256"
    )
    return {1: derived}


def _current_pepper() -> tuple[int, bytes]:
    peppers = _peppers()
    number = max(peppers)  # the highest number is the current pepper
    return number, peppers[number]


def _digest(pepper: bytes, secret: str) -> str:
    return hmac.digest(pepper, secret.encode(), "sha256").hex()


class ClientSecretHasher(BasePasswordHasher):
    """HMAC-SHA256 under a numbered pepper, for client secrets only (CLIENT_SECRET_HASHER).

    Listed in PASSWORD_HASHERS after the password hashers (Django finds hashers there by their
    algorithm name), never first: user passwords keep PBKDF2. No salt: the secret is random."""

    algorithm = ALGORITHM

    def salt(self) -> str:
        return ""

    def encode(self, password: str, salt: str) -> str:
        number, pepper = _current_pepper()
        return f"{ALGORITHM}${number}${_digest(pepper, password)}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, number, digest = encoded.split("$", 2)
        return {"algorithm": algorithm, "pepper": number, "hash": digest, "salt": ""}

    def verify(self, password: str, encoded: str) -> bool:
        try:
            decoded = self.decode(encoded)
            pepper = _peppers().get(int(decoded["pepper"]))
        except ValueError:
            return False
        if decoded["algorithm"] != ALGORITHM or pepper is None:
            return False
        return hmac.compare_digest(_digest(pepper, password), decoded["hash"])

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        decoded = self.decode(encoded)
        return {
            "algorithm": ALGORITHM,
            "pepper": decoded["pepper"],
            "hash": mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return self.decode(encoded)["pepper"] != str(_current_pepper()[0])

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None


_hasher = ClientSecretHasher()


@functools.cache
def _unknown_client_secret() -> str:
    """What an unknown client id's secret is checked against: the same HMAC as a known one's."""
    return _hasher.encode(secrets.token_urlsafe(SECRET_BYTES), "")


registry.attach("authority.unknown_client_secret", clear=_unknown_client_secret.cache_clear)


def client_secret_matches(*, presented: str, stored: str) -> bool:
    """Whether `presented` is the secret `stored` holds: the keyed hash, a legacy Django hash
    (PBKDF2: slow, until the secret's first successful use re-stores it), or a secret stored in
    the clear (DOT's `hash_client_secret=False`)."""
    if len(presented) > MAX_CLIENT_SECRET:
        return False
    if stored.startswith(f"{ALGORITHM}$"):
        return _hasher.verify(presented, stored)
    try:
        identify_hasher(stored)
    except ValueError:
        return bool(stored) and constant_time_compare(presented, stored)
    return check_password(presented, stored)


def client_secret_upgrade(*, application: Any, presented: str) -> bool:
    """Re-stores a secret that has just verified under the keyed hash and the current pepper,
    if it is not stored so already (a legacy PBKDF2 hash, or an older pepper). True if it was.
    Conditional on the stored value, so a secret changed meanwhile is left alone."""
    stored = application.client_secret
    if not getattr(application, "hash_client_secret", True):
        return False
    if stored.startswith(f"{ALGORITHM}$") and not _hasher.must_update(stored):
        return False
    upgraded = make_password(presented, hasher=_hasher)
    updated = (
        get_application_model()
        .objects.filter(pk=application.pk, client_secret=stored)
        .update(client_secret=upgraded)  # update(): the field's pre_save would hash it again
    )
    if updated:
        application.client_secret = upgraded
    return bool(updated)


class AuthorityOAuth2Validator(OAuth2Validator):
    """DOT's validator (OAUTH2_VALIDATOR_CLASS) with the client-secret check above."""

    def _check_secret(self, provided_secret: str, stored_secret: str) -> bool:
        return client_secret_matches(presented=provided_secret, stored=stored_secret)

    def _presented_secret(self, request: Any) -> str | None:
        """The client secret of the request, as DOT read it: HTTP Basic first, then the body."""
        basic = self._extract_basic_auth(request)
        if basic:
            try:
                decoded = base64.b64decode(basic).decode()
            except (binascii.Error, ValueError):
                return None
            _, colon, secret = decoded.partition(":")
            return unquote_plus(secret) if colon else None
        body_secret = getattr(request, "client_secret", None)
        return body_secret if isinstance(body_secret, str) else None

    def _load_application(self, client_id: str, request: Any) -> Any:
        """DOT's, remembered per process (authority.caches `oauth2_clients`): unknown ids too."""
        if request.client or not isinstance(client_id, str) or len(client_id) > MAX_CLIENT_ID:
            return super()._load_application(client_id, request)
        found = _clients.get(client_id)
        if found is None:
            application = super()._load_application(client_id, request)
            _clients.put(client_id, _Client(application))
            return application
        if found.application is None or not found.application.is_usable(request):
            return None
        request.client = found.application
        return found.application

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        authenticated: bool = super().authenticate_client(request, *args, **kwargs)
        presented = self._presented_secret(request)
        if authenticated and presented is not None and request.client is not None:
            client_secret_upgrade(application=request.client, presented=presented)
        elif not authenticated and request.client is None and presented is not None:
            # RFC 6819 §5.1.4.2.2: no timing difference between an unknown client id and a
            # wrong secret.
            client_secret_matches(presented=presented, stored=_unknown_client_secret())
        return authenticated

    def save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        """DOT's, but a client-credentials grant's token is committed without waiting for the
        WAL flush on PostgreSQL (synchronous_commit off, for this transaction only): that wait
        was about a third of a grant's time. What it risks is harmless: a token issued in the
        last fraction of a second before a database crash is lost, and its client, answered
        401, asks for another. Other grants (refresh-token rotation) keep the durable commit."""
        if request.grant_type != "client_credentials":
            return super().save_bearer_token(token, request, *args, **kwargs)
        database = router.db_for_write(get_access_token_model())
        with transaction.atomic(using=database):
            if connections[database].vendor == "postgresql":
                with connections[database].cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            return self._save_bearer_token(token, request, *args, **kwargs)


@dataclass(frozen=True)
class _Client:
    application: Any  # None: no such client id


def _evict_client(cache: LRU[str, _Client], event: Event, facts: dict[str, Any]) -> None:
    cache.pop(facts["client_id"])


_clients: LRU[str, _Client] = registry.lru("authority.oauth2_clients", evict=_evict_client)


def _client_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    registry.invalidate(Event.OAUTH2_CLIENT_CHANGED, client_id=instance.client_id)


for _signal in (post_save, post_delete):
    _signal.connect(
        _client_changed, sender=get_application_model(), dispatch_uid="authority.oauth2_client"
    )


# --- the throttle of /o/token/ --------------------------------------------------------------


def oauth2_token_throttle(*, client_id: str | None, address: str | None) -> None:
    """Throttled once a client id (OAUTH2_TOKEN_THROTTLE) or a client address
    (OAUTH2_TOKEN_ADDRESS_THROTTLE) has asked too often in the current window, before any
    secret is hashed. Keys are keyed hashes (authority.ratelimit.subject_key): the cache holds
    no client ids or addresses."""
    buckets = []
    if client_id:
        client = ratelimit.subject_key("oauth2-client", client_id[:MAX_CLIENT_ID])
        buckets.append((f"oauth2-token:client:{client}",
                        authority_settings.OAUTH2_TOKEN_THROTTLE))  # fmt: skip
    if address:
        buckets.append((f"oauth2-token:address:{ratelimit.subject_key('address', address)}",
                        authority_settings.OAUTH2_TOKEN_ADDRESS_THROTTLE))  # fmt: skip
    now = time.time()
    for key, rate in buckets:
        limit, duration = ratelimit.parse_rate(rate)
        window = int(now // duration)
        if not ratelimit.allow(key, window=window, duration=duration, limit=limit):
            retry_after = max(1, math.ceil((window + 1) * duration - now))
            raise Throttled("Too many token requests; retry later.", retry_after=retry_after)


# --- ending tokens --------------------------------------------------------------------------


@transaction.atomic
def oauth2_tokens_end(*, user: Any = None, application: Any = None) -> int:
    """Ends every access and refresh token of `user` (a password change, a removed membership)
    or of `application` (a removed service account): deleted, so they neither authenticate nor
    refresh; each deletion drops the token from this process's authentication cache (other
    processes: within OAUTH2_PRINCIPAL_TTL). Returns the number of tokens ended."""
    if (user is None) == (application is None):
        raise ValueError("Name a user or an application.")
    owner = Q(user=user) if user is not None else Q(application=application)
    refresh_deleted, _ = get_refresh_token_model().objects.filter(owner).delete()
    access_deleted, _ = get_access_token_model().objects.filter(owner).delete()
    return refresh_deleted + access_deleted


# --- the per-process authentication cache ---------------------------------------------------


@dataclass(frozen=True)
class CachedBearer:
    """A bearer token DOT validated: its row (with application and user) and until when it is
    trusted here (the token's expiry; the cache's TTL bounds it further)."""

    access_token: Any
    expires: dt.datetime


def _evict_token(cache: LRU[str, CachedBearer], event: Event, facts: dict[str, Any]) -> None:
    cache.pop(facts["token_checksum"])


_principals: LRU[str, CachedBearer] = registry.lru(
    "authority.oauth2_principals", evict=_evict_token
)


def bearer_checksum(token: str) -> str:
    """DOT's lookup key of a token (AccessToken.token_checksum)."""
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_cached(checksum: str) -> Any | None:
    """The access token row this process validated for `checksum`, while trusted."""
    entry = _principals.get(checksum)
    if entry is None:
        return None
    if entry.expires <= timezone.now():
        _principals.pop(checksum)
        return None
    return entry.access_token


def bearer_remember(checksum: str, access_token: Any) -> None:
    _principals.put(checksum, CachedBearer(access_token, access_token.expires))


def _token_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.token_checksum:
        registry.invalidate(Event.OAUTH2_TOKEN_DELETED, token_checksum=instance.token_checksum)


post_delete.connect(
    _token_deleted, sender=get_access_token_model(), dispatch_uid="authority.oauth2_token_deleted"
)
