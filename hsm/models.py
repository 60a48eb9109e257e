"""Key records: what the authority knows about each key in its key store."""

from __future__ import annotations

from django.db import models

from authority.scoping import OwnerScoped, OwnerScopedQuerySet


class KeyPurpose(models.TextChoices):
    OWNER_SIGNING = "owner_signing", "Owner signing (NeoFS tokens)"
    ACCESS_TOKEN_SIGNING = "access_token_signing", "Access-token signing (ES256 JWT)"
    DELEGATION_HMAC = "delegation_hmac", "Delegation-token HMAC"
    CLIENT_SESSION_HMAC = "client_session_hmac", "Client-session HMAC"
    AUDIT_HMAC = "audit_hmac", "Audit HMAC"
    DYNAMIC_SESSION = "dynamic_session", "Dynamic session key"


HMAC_PURPOSES = frozenset(
    {KeyPurpose.DELEGATION_HMAC, KeyPurpose.CLIENT_SESSION_HMAC, KeyPurpose.AUDIT_HMAC}
)

# The authority's own keys: one active key each (a database constraint holds it), made on first
# need by whichever process needs it first and replaced only by rotation.
AUTHORITY_PURPOSES = (
    KeyPurpose.ACCESS_TOKEN_SIGNING,
    KeyPurpose.DELEGATION_HMAC,
    KeyPurpose.CLIENT_SESSION_HMAC,
    KeyPurpose.AUDIT_HMAC,
)


class KeyState(models.TextChoices):
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired (verifies, no longer signs)"
    DESTROYED = "destroyed", "Destroyed"


class KeyAlgorithm(models.TextChoices):
    EC_P256 = "ec_p256", "ECDSA P-256"
    HMAC_SHA256 = "hmac_sha256", "HMAC-SHA256"


class KeyRecord(OwnerScoped, models.Model):
    """One key in the key store: purpose, owner, CKA_ID, public half and lifecycle state."""

    purpose = models.CharField(max_length=32, choices=KeyPurpose.choices)
    owner = models.ForeignKey(
        "authority.Owner", null=True, blank=True, on_delete=models.PROTECT, related_name="keys"
    )
    label = models.CharField(max_length=128)
    key_id = models.BinaryField(max_length=32, unique=True, help_text="CKA_ID in the token")
    algorithm = models.CharField(max_length=16, choices=KeyAlgorithm.choices)
    public_key = models.BinaryField(max_length=33, null=True, blank=True)
    backend = models.CharField(max_length=16)
    material = models.BinaryField(
        null=True, blank=True, editable=False,
        help_text="Software store only: the key encrypted at rest. Empty for HSM keys.",
    )  # fmt: skip
    state = models.CharField(max_length=16, choices=KeyState.choices, default=KeyState.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    objects = OwnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["purpose", "owner", "state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose"],
                condition=models.Q(
                    owner__isnull=True, state=KeyState.ACTIVE, purpose__in=AUTHORITY_PURPOSES
                ),
                name="hsm_one_active_authority_key",
                violation_error_message="An active key of this purpose exists already.",
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def key_id_hex(self) -> str:
        return bytes(self.key_id).hex()
