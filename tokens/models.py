"""Sessions (broker session + NeoFS session token in one record) and revoked access tokens."""

from __future__ import annotations

import datetime as dt
import uuid

import base58
from django.conf import settings
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from authority.caches import registry
from authority.scoping import OwnerScoped, OwnerScopedQuerySet


class SessionKind(models.TextChoices):
    DELEGATION = "delegation", "Delegation (opaque sa1 token)"
    STATIC = "static", "Static (NeoFS token for a trusted party's key)"
    DYNAMIC = "dynamic", "Dynamic (session key held in the HSM)"


class SessionContext(models.TextChoices):
    OBJECT = "object", "Object"
    CONTAINER = "container", "Container"


OBJECT_VERBS = ("PUT", "GET", "HEAD", "SEARCH", "DELETE", "RANGE", "RANGEHASH")
CONTAINER_VERBS = ("PUT", "DELETE", "SETEACL", "SETATTRIBUTE", "REMOVEATTRIBUTE")


class SessionState(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


# The session states, defined once. A session is cancelled once `cancelled_at` is set; otherwise it
# is expired once its `expires_at` is not after the moment, and active before. `Session.state_at`
# says it in Python, `SessionQuerySet` in SQL (and `SessionQuerySet.active_sql` compiles the same
# filter for hand-written statements); `expired_at` only records when the sweep saw it expire.
def _active_at(now: dt.datetime) -> models.Q:
    return models.Q(cancelled_at__isnull=True, expires_at__gt=now)


def _expired_at(now: dt.datetime) -> models.Q:
    return models.Q(cancelled_at__isnull=True, expires_at__lte=now)


_CANCELLED = models.Q(cancelled_at__isnull=False)


def session_state_q(state: SessionState, now: dt.datetime) -> models.Q:
    """The condition of `state` at `now` as `SessionQuerySet` filters by it, for aggregates that
    count several states in one query (`Count("pk", filter=session_state_q(...))`)."""
    if state == SessionState.ACTIVE:
        return _active_at(now)
    if state == SessionState.EXPIRED:
        return _expired_at(now)
    return _CANCELLED


def session_state(
    *, cancelled_at: dt.datetime | None, expires_at: dt.datetime, now: dt.datetime
) -> SessionState:
    """The state of a session with these fields at `now`: `_active_at` and its siblings in
    Python (`Session.state_at`, and readers that fetched only these two fields)."""
    if cancelled_at is not None:
        return SessionState.CANCELLED
    if expires_at <= now:
        return SessionState.EXPIRED
    return SessionState.ACTIVE


class SessionQuerySet(OwnerScopedQuerySet["Session"]):
    def active(self, now: dt.datetime) -> SessionQuerySet:
        return self.filter(_active_at(now))

    def expired(self, now: dt.datetime) -> SessionQuerySet:
        return self.filter(_expired_at(now))

    def cancelled(self) -> SessionQuerySet:
        return self.filter(_CANCELLED)

    def ended(self, now: dt.datetime) -> SessionQuerySet:
        """Expired or cancelled."""
        return self.exclude(_active_at(now))

    @staticmethod
    def active_sql(connection: BaseDatabaseWrapper) -> str:
        """`active(now)` as an SQL condition on `tokens_session` for hand-written statements, with
        one placeholder, for `now` (prepared with `Session.prepare_moment`). Compiled from the
        queryset's own filter, once per backend."""
        found = _ACTIVE_SQL.get(connection.vendor)
        if found is None:
            query = Session.objects.active(timezone.now()).query
            sql, params = query.get_compiler(connection=connection).compile(query.where)
            if len(params) != 1:
                raise ValueError(f"The active condition takes one parameter, not {params!r}")
            found = _ACTIVE_SQL[connection.vendor] = sql
        return found


_ACTIVE_SQL: dict[str, str] = {}
registry.attach("tokens.active_sql", clear=_ACTIVE_SQL.clear)


class Session(OwnerScoped, models.Model):
    """A time-bound power of attorney an owner delegated: who, to whom, for what, until when."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey("authority.Owner", on_delete=models.PROTECT, related_name="sessions")
    subject = models.CharField(max_length=200, help_text="The principal who asked for it.")
    renewer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="renewable_sessions",
    )  # fmt: skip
    renewer_application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, null=True, blank=True,
        on_delete=models.SET_NULL, related_name="renewable_sessions",
    )  # fmt: skip
    kind = models.CharField(max_length=12, choices=SessionKind.choices)
    context = models.CharField(max_length=10, choices=SessionContext.choices)
    verbs = models.JSONField(default=list)
    container_cid = models.BinaryField(
        max_length=32, null=True, blank=True, help_text="Null: wildcard (container context only)."
    )
    objects_list = models.JSONField(
        "objects", default=list, blank=True, help_text="Base58 object ids; empty: whole container."
    )
    session_key = models.BinaryField(max_length=33, null=True, blank=True)
    dynamic_key = models.ForeignKey(
        "hsm.KeyRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    token = models.BinaryField(null=True, blank=True, help_text="The signed NeoFS session token.")
    secret_digest = models.CharField(max_length=64, blank=True)
    secret_key = models.ForeignKey(
        "hsm.KeyRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The HMAC key that made secret_digest.",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    max_expires_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    access_generation = models.PositiveIntegerField(
        default=0, help_text="Bumped when one of its access tokens is revoked: cached ones retire."
    )
    expired_at = models.DateTimeField(
        null=True, blank=True, help_text="When the expiry sweep marked it expired."
    )

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(cancelled_at__isnull=True, expired_at__isnull=True),
                name="session_live_by_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} session {self.id}"

    @property
    def container_id(self) -> str | None:
        return base58.b58encode(bytes(self.container_cid)).decode() if self.container_cid else None

    @property
    def renewer_label(self) -> str:
        if self.renewer_application_id:
            return f"app:{self.renewer_application.client_id}"  # type: ignore[union-attr]
        if self.renewer_user_id:
            return f"user:{self.renewer_user.get_username()}"  # type: ignore[union-attr]
        return ""

    def state_at(self, moment: dt.datetime | None = None) -> SessionState:
        """The state `SessionQuerySet` filters by (see `_active_at`)."""
        return session_state(
            cancelled_at=self.cancelled_at, expires_at=self.expires_at, now=moment or timezone.now()
        )

    @staticmethod
    def prepare_moment(now: dt.datetime, connection: BaseDatabaseWrapper) -> object:
        """`now` as the database takes it in `SessionQuerySet.active_sql`."""
        return Session._meta.get_field("expires_at").get_db_prep_value(now, connection)

    @property
    def state(self) -> SessionState:
        return self.state_at()


class RevokedAccessToken(models.Model):
    """An access token revoked before its expiry (RFC 7009); kept until it would have expired."""

    jti = models.CharField(max_length=64, unique=True)
    session = models.ForeignKey(
        Session, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.jti


class RenewalSchedule(OwnerScoped, models.Model):
    """Keeps a session alive on its renewer's behalf, renewing at ~90% of each period until a
    stop time, the session's maximum lifetime or its cancellation (as a job scheduler keeps
    delegation tokens alive)."""

    session = models.OneToOneField(
        Session, on_delete=models.CASCADE, related_name="renewal_schedule"
    )
    period = models.PositiveIntegerField(help_text="Seconds between renewals' deadlines.")
    stop_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=200, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Failed runs in a row.")

    owner_path = "session__owner"
    objects = OwnerScopedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["next_run_at"], condition=models.Q(active=True), name="renewal_due"
            )
        ]

    def __str__(self) -> str:
        return f"renew {self.session_id} every {self.period} s"


class BearerGrant(OwnerScoped, models.Model):
    """A NeoFS bearer token a container's owner issued to a receiver (or anyone) with an eACL
    table, kept so that it can be listed, audited and revoked (verify honours the revocation)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        "authority.Owner", on_delete=models.PROTECT, related_name="bearer_grants"
    )
    container_cid = models.BinaryField(max_length=32)
    receiver = models.CharField(
        max_length=40, blank=True, help_text="Base58 owner id of the receiver; empty: anyone."
    )
    flavour = models.CharField(max_length=8)
    allow_impersonate = models.BooleanField(
        default=False, help_text="FrostFS: the receiver may act as the issuer."
    )
    token = models.BinaryField()
    token_digest = models.CharField(max_length=64, unique=True)
    exp = models.PositiveBigIntegerField()
    nbf = models.PositiveBigIntegerField()
    iat = models.PositiveBigIntegerField()
    issued_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = OwnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"bearer grant {self.id}"

    @property
    def container_id(self) -> str:
        return base58.b58encode(bytes(self.container_cid)).decode()


class ClientSessionCutoff(models.Model):
    """A user's logout: client tokens of logins at or before `not_before` no longer work."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_session_cutoff"
    )
    not_before = models.DateTimeField()

    def __str__(self) -> str:
        return f"client sessions of user {self.user_id} before {self.not_before:%Y-%m-%d %H:%M:%S}"
