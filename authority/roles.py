"""Roles a member holds in an owner: viewers read; operators and admins write; admins also manage
members, owner settings and keys."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"


WRITER_ROLES = frozenset({Role.ADMIN, Role.OPERATOR})
ADMIN_ROLES = frozenset({Role.ADMIN})
