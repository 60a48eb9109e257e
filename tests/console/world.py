"""What the console tests read back: sessions in each state, bearer grants, a failing renewal
schedule and trades, for an owner — made through the services where time need not pass, and
written with the times a state needs where it must (expired, cancelled yesterday)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from authority.models import Container, Owner
from authority.principals import Principal
from authority.services.audit import audit_record
from tests.factories import ApplicationFactory, ContainerFactory, MembershipFactory
from tokens.models import BearerGrant, RenewalSchedule, Session
from tokens.selectors import TRADE_ACTION
from tokens.services.bearer_grants import bearer_grant_issue, bearer_grant_revoke
from tokens.wire import eacl as wire
from tokens.wire.eacl_rules import parse_rules


@dataclass
class Made:
    """What `populate` made for an owner, and the figures the dashboard must show for it."""

    owner: Owner
    container: Container
    application: Any
    live: int
    expiring: int
    cancelled_today: int
    bearer_grants_live: int
    schedules_failing: int
    trades: int


def session(owner: Owner, *, expires_in: dt.timedelta, cancelled_ago: dt.timedelta | None = None,
            subject: str = "user:alice", container: Container | None = None,
            renewer_application: Any = None) -> Session:  # fmt: skip
    now = timezone.now()
    return Session.objects.create(
        owner=owner,
        subject=subject,
        kind="delegation",
        context="object",
        verbs=["GET", "HEAD"],
        container_cid=bytes(container.cid) if container else None,
        renewer_application=renewer_application,
        expires_at=now + expires_in,
        max_expires_at=now + dt.timedelta(days=7),
        cancelled_at=now - cancelled_ago if cancelled_ago is not None else None,
    )


def populate(owner: Owner, admin: Any, *, scale: int = 1) -> Made:
    """`scale` multiplies every row (the query-count tests compare two scales)."""
    actor = Principal(user=admin)
    container = ContainerFactory(owner=owner, name=f"{owner.slug}-photos", basic_acl=0x1FBF8CFF)
    application = ApplicationFactory(name=f"{owner.slug} backup job")
    MembershipFactory(owner=owner, user=None, application=application)
    table = wire.Table(container_id=None, records=parse_rules("deny get others"))
    subject = f"app:{application.client_id}"
    for _ in range(scale):
        session(owner, expires_in=dt.timedelta(hours=2), subject=subject, container=container,
                renewer_application=application)  # fmt: skip
        renewed = session(owner, expires_in=dt.timedelta(hours=48), container=container)
        session(owner, expires_in=-dt.timedelta(minutes=5))  # expired
        session(owner, expires_in=dt.timedelta(hours=3), cancelled_ago=dt.timedelta(seconds=1))
        session(owner, expires_in=dt.timedelta(hours=3), cancelled_ago=dt.timedelta(days=2))
        RenewalSchedule.objects.create(
            session=renewed, period=3600, next_run_at=timezone.now(), failures=2,
            last_outcome="refused: not the renewer",
        )  # fmt: skip
        bearer_grant_issue(actor=actor, container=container, receiver=None, table=table,
                           lifetime=3600)  # fmt: skip
        revoked, _ = bearer_grant_issue(actor=actor, container=container, receiver=None,
                                        table=table, lifetime=3600)  # fmt: skip
        bearer_grant_revoke(actor=actor, grant=revoked)
        ended, _ = bearer_grant_issue(actor=actor, container=container, receiver=None,
                                      table=table, lifetime=3600)  # fmt: skip
        BearerGrant.objects.filter(pk=ended.pk).update(exp=1)  # long past
        for _ in range(3):
            audit_record(
                actor=Principal(system="session-holder:test"), owner=owner,
                action=TRADE_ACTION, object_type="session", object_id="x",
            )  # fmt: skip
    return Made(
        owner=owner, container=container, application=application, live=2 * scale,
        expiring=scale, cancelled_today=scale, bearer_grants_live=scale,
        schedules_failing=scale, trades=3 * scale,
    )  # fmt: skip
