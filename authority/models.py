"""Tenancy: owners and their members, containers, eACL tables, the audit log."""

from __future__ import annotations

import uuid

import base58
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from authority.roles import ADMIN_ROLES, WRITER_ROLES, Role
from authority.scoping import OwnerScoped, OwnerScopedQuerySet
from tokens.wire import eacl as wire_eacl
from tokens.wire.eacl_rules import parse_target_keys

__all__ = ["ADMIN_ROLES", "WRITER_ROLES", "Role"]  # re-exported: the roles belong to tenancy


class BearerFlavour(models.TextChoices):
    NEOFS = "neofs", "NeoFS (issuer field)"
    FROSTFS = "frostfs", "FrostFS (allow_impersonate flag)"


class Owner(OwnerScoped, models.Model):
    """A tenant: the NeoFS account that delegates power of attorney over its containers."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    public_key = models.BinaryField(
        max_length=33,
        null=True,
        blank=True,
        editable=True,
        help_text="33-byte compressed P-256 key; its account is the owner id.",
    )
    neofs_owner_id = models.CharField(
        "NeoFS owner id", max_length=40, unique=True, null=True, blank=True, editable=False
    )
    signs_own_tokens = models.BooleanField(
        default=False,
        help_text="The owner keeps its own wallet; the authority holds only the public key.",
    )
    bearer_flavour = models.CharField(
        max_length=8, choices=BearerFlavour.choices, default=BearerFlavour.NEOFS
    )
    renew_period = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds; overrides SESSION_RENEW_PERIOD for this owner."
    )
    max_lifetime = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds; overrides SESSION_MAX_LIFETIME for this owner."
    )
    access_token_audiences = models.TextField(
        "access-token audiences",
        blank=True,
        default="",
        help_text="Audiences (one a line) this owner's sessions may trade access tokens for,"
        " besides ACCESS_TOKEN_AUDIENCE; any other is refused.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    owner_path = ""
    objects = OwnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(OwnerScoped, models.Model):
    """A user's or an OAuth2 application's (service account's) role in one owner."""

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnerScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, application__isnull=True)
                    | models.Q(user__isnull=True, application__isnull=False)
                ),
                name="membership_user_xor_application",
                violation_error_message="A membership names either a user or an application.",
            ),
            models.UniqueConstraint(fields=["owner", "user"], name="membership_unique_user"),
            models.UniqueConstraint(
                fields=["owner", "application"], name="membership_unique_application"
            ),
        ]

    def __str__(self) -> str:
        who = self.user or self.application
        return f"{who} · {self.role} of {self.owner}"

    def clean(self) -> None:
        if (self.user_id is None) == (self.application_id is None):
            raise ValidationError("A membership names either a user or an application.")


def validate_container_id(value: bytes) -> None:
    if len(bytes(value)) != 32:
        raise ValidationError("A container id is 32 bytes.")


class Container(OwnerScoped, models.Model):
    """A NeoFS container of one owner: 32-byte id, basic ACL and its current eACL table."""

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="containers")
    cid = models.BinaryField(max_length=32, unique=True, validators=[validate_container_id])
    name = models.CharField(max_length=200)
    basic_acl = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Basic ACL flags (uint32), e.g. 0x1FBFBFFF."
    )
    eacl_table = models.ForeignKey(
        "EACLTable",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The container's current eACL table.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["owner", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.container_id})"

    @property
    def container_id(self) -> str:
        return base58.b58encode(bytes(self.cid)).decode()


class EACLTable(OwnerScoped, models.Model):
    """An extended ACL table: ordered records evaluated first-match, no match = ALLOW."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="eacl_tables")
    container = models.ForeignKey(
        Container, null=True, blank=True, on_delete=models.CASCADE, related_name="eacl_tables"
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["owner", "name"]
        verbose_name = "eACL table"

    def __str__(self) -> str:
        return self.name


class EACLRecord(OwnerScoped, models.Model):
    """One eACL record: operation, action, filters (AND) and targets (OR)."""

    table = models.ForeignKey(EACLTable, on_delete=models.CASCADE, related_name="records")
    position = models.PositiveIntegerField(default=0)
    operation = models.PositiveSmallIntegerField(
        choices=[(op.value, op.name) for op in wire_eacl.Operation if op]
    )
    action = models.PositiveSmallIntegerField(
        choices=[(a.value, a.name) for a in wire_eacl.Action if a]
    )

    owner_path = "table__owner"
    objects = OwnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["table", "position", "id"]
        verbose_name = "eACL record"

    def __str__(self) -> str:
        return f"#{self.position} {self.get_action_display()} {self.get_operation_display()}"


class EACLFilter(OwnerScoped, models.Model):
    """A header filter of an eACL record."""

    record = models.ForeignKey(EACLRecord, on_delete=models.CASCADE, related_name="filters")
    position = models.PositiveIntegerField(default=0)
    header_type = models.PositiveSmallIntegerField(
        choices=[(h.value, h.name) for h in wire_eacl.HeaderType if h]
    )
    match_type = models.PositiveSmallIntegerField(
        choices=[(m.value, m.name) for m in wire_eacl.MatchType if m]
    )
    key = models.CharField(max_length=256)
    value = models.CharField(max_length=1024, blank=True)

    owner_path = "record__table__owner"
    objects = OwnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["record", "position", "id"]
        verbose_name = "eACL filter"

    def __str__(self) -> str:
        return f"{self.get_header_type_display()} {self.key} {self.get_match_type_display()}"

    def clean(self) -> None:
        if self.match_type in {
            m.value for m in wire_eacl.NUMERIC_MATCHES
        } and not wire_eacl.is_decimal(self.value):
            raise ValidationError({"value": "Numeric match types need a base-10 integer value."})


def validate_target_keys(value: str) -> None:
    try:
        parse_target_keys(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class EACLTarget(OwnerScoped, models.Model):
    """Who an eACL record applies to: a role, or explicit keys/accounts."""

    record = models.ForeignKey(EACLRecord, on_delete=models.CASCADE, related_name="targets")
    position = models.PositiveIntegerField(default=0)
    role = models.PositiveSmallIntegerField(
        choices=[(r.value, r.name) for r in wire_eacl.Role], default=wire_eacl.Role.ROLE_UNSPECIFIED
    )
    keys = models.TextField(
        blank=True,
        validators=[validate_target_keys],
        help_text="One per line: hex 33-byte public key, or base58 account (owner id).",
    )

    owner_path = "record__table__owner"
    objects = OwnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["record", "position", "id"]
        verbose_name = "eACL target"

    def __str__(self) -> str:
        return self.get_role_display() if self.role else "keys"


class AuditChain(models.Model):
    """The head of one hash chain of audit events: one chain per owner, and one for the system."""

    owner = models.OneToOneField(
        Owner, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_chain"
    )
    name = models.CharField(max_length=80, unique=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")
    anchor_seq = models.PositiveBigIntegerField(
        default=0, help_text="The last pruned row's seq: the chain is checked from the next one."
    )
    anchor_hash = models.CharField(
        max_length=64, blank=True, help_text="The last pruned row's hash."
    )

    def __str__(self) -> str:
        return self.name


class AuditEvent(OwnerScoped, models.Model):
    """An append-only audit row: MACed when written, chained to its owner's chain when sealed."""

    # Every trade writes a row, so each index and check here is paid on the hottest path: the
    # chain's lookups use the (chain, seq) constraint's index, the owner's the (owner, …) indexes
    # below; and the owner reference is kept by Django (PROTECT), not by a database foreign key,
    # whose check would lock the owner's row (FOR KEY SHARE) for every audit row of its tenant.
    chain = models.ForeignKey(
        AuditChain, null=True, blank=True, on_delete=models.PROTECT, related_name="events",
        db_index=False,
    )  # fmt: skip
    seq = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    owner = models.ForeignKey(
        Owner, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events",
        db_index=False, db_constraint=False,
    )  # fmt: skip
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=20, default="success")
    request_id = models.CharField(max_length=64, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    token_fingerprint = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    row_mac_key_id = models.CharField(max_length=16)  # the audit key that made row_mac
    row_mac = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash_key_id = models.CharField(max_length=16, blank=True)  # the one that made hash, when sealed
    hash = models.CharField(max_length=64, blank=True)

    objects = OwnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_event_chain_seq")
        ]
        indexes = [
            models.Index(fields=["owner", "created_at"]),
            models.Index(
                fields=["owner", "id"],
                condition=models.Q(seq__isnull=True),
                name="audit_event_unsealed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action}"
