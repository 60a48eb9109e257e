"""The demo tenants (`manage.py demo`): a quickstart, and a fixture for black-box tests."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from oauth2_provider.models import Application

from authority.models import Container, EACLTable, Owner, Role
from authority.principals import SYSTEM, Principal
from authority.services.containers import ContainerChanges, container_create, container_update
from authority.services.eacl_tables import eacl_table_create
from authority.services.owners import membership_set, owner_create
from tokens.wire import eacl as wire
from tokens.wire.eacl_rules import parse_rules

DEMO_OWNERS = {"acme": "Acme Corporation", "globex": "Globex Corporation"}
DEMO_RULES = "deny get obj:Classification=secret others\nallow get others"


@transaction.atomic
def demo_load() -> dict[str, Any]:
    """Creates what is missing and gives every demo principal fresh credentials (printed once)."""
    result: dict[str, Any] = {}
    for slug, name in DEMO_OWNERS.items():
        owner = Owner.objects.filter(slug=slug).first() or owner_create(
            actor=SYSTEM, name=name, slug=slug
        )
        password = secrets.token_urlsafe(18)
        user, _ = get_user_model().objects.get_or_create(
            username=f"{slug}-admin", defaults={"is_staff": True, "email": f"admin@{slug}.example"}
        )
        user.is_staff = True
        user.set_password(password)
        user.save()
        membership_set(actor=SYSTEM, owner=owner, role=Role.ADMIN, user=user)

        client_secret = secrets.token_urlsafe(32)
        application = Application.objects.filter(name=f"{slug}-service").first()
        if application is None:
            application = Application(
                name=f"{slug}-service",
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            )
        application.client_secret = client_secret  # hashed on save
        application.save()
        membership_set(actor=SYSTEM, owner=owner, role=Role.OPERATOR, application=application)

        container = Container.objects.filter(owner=owner, name=f"{slug}-data").first()
        if container is None:
            container = container_create(
                actor=Principal(user=user), owner=owner, name=f"{slug}-data"
            )
        table = EACLTable.objects.filter(owner=owner, name=f"{slug}-default").first()
        if table is None:
            table = eacl_table_create(
                actor=Principal(user=user),
                owner=owner,
                name=f"{slug}-default",
                container=container,
                table=wire.Table(container_id=None, records=parse_rules(DEMO_RULES)),
            )
        if container.eacl_table_id is None:  # the demo's rules apply to the demo's container
            container_update(
                actor=Principal(user=user), container=container,
                changes=ContainerChanges(eacl_table=table),
            )  # fmt: skip
        result[slug] = {
            "owner": slug,
            "user": {"username": user.username, "password": password},
            "oauth2_client": {"client_id": application.client_id, "client_secret": client_secret},
            "container_id": container.container_id,
            "eacl_table": str(table.public_id),
        }
    return result
