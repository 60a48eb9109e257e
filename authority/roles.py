"""Roles a member holds in an owner: viewers read; operators and admins write; admins also manage
members, owner settings and keys. A resource server (an OAuth2 application of the owner's) only
asks the decision point — verify and introspect — and sees nothing else."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"
    RESOURCE_SERVER = "resource_server", "Resource server (verify and introspect only)"


WRITER_ROLES = frozenset({Role.ADMIN, Role.OPERATOR})
ADMIN_ROLES = frozenset({Role.ADMIN})
# Who sees an owner's rows by default (lists, details, writes): every role but the resource
# server's, which the decision point's two operations alone name.
MEMBER_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.VIEWER})
DECISION_ROLES = MEMBER_ROLES | {Role.RESOURCE_SERVER}
