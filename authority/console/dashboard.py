"""The dashboard's figures, each from a selector with a bounded number of queries: the count of
queries does not grow with the number of owners, sessions, grants or audit rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from authority.epoch import current_epoch
from authority.models import Owner
from authority.principals import Principal
from authority.selectors import AuditChainStatus, audit_chain_status, beat_schedule_list
from hsm.errors import HSMUnavailable
from hsm.keystore import keystore
from hsm.models import KeyPurpose, KeyState
from hsm.selectors import key_counts
from tokens.selectors import (
    bearer_grant_live_by_owner,
    renewal_schedule_failing_by_owner,
    session_figures_by_owner,
    trades_per_minute,
)

CHART_WIDTH, CHART_HEIGHT = 600, 80  # the trades chart's drawing area, in SVG units


@dataclass
class OwnerFigures:
    """One owner's line of the dashboard (or the totals line, with no owner)."""

    owner: Owner | None
    live: int = 0
    expiring: int = 0
    cancelled_today: int = 0
    bearer_grants_live: int = 0
    schedules_failing: int = 0

    def add(self, other: OwnerFigures) -> None:
        self.live += other.live
        self.expiring += other.expiring
        self.cancelled_today += other.cancelled_today
        self.bearer_grants_live += other.bearer_grants_live
        self.schedules_failing += other.schedules_failing


@dataclass(frozen=True)
class TradeBar:
    """One minute of the trades chart, placed in the SVG's coordinates."""

    minute: dt.datetime
    trades: int
    x: int
    y: int
    width: int
    height: int


@dataclass
class Dashboard:
    now: dt.datetime
    owners: list[OwnerFigures]
    totals: OwnerFigures
    trades: list[TradeBar]
    trades_total: int
    trades_peak: int
    audit: AuditChainStatus
    keys: list[dict[str, Any]]
    hsm_status: dict[str, object] = field(default_factory=dict)
    hsm_error: str = ""
    schedules: list[dict[str, Any]] = field(default_factory=list)
    chart_width: int = CHART_WIDTH
    chart_height: int = CHART_HEIGHT


def dashboard_build(*, principal: Principal, now: dt.datetime) -> Dashboard:
    """Every figure of the dashboard, scoped to the owners `principal` sees."""
    sessions = session_figures_by_owner(principal=principal, now=now)
    grants = bearer_grant_live_by_owner(principal=principal, epoch=current_epoch())
    failing = renewal_schedule_failing_by_owner(principal=principal)
    owners = []
    totals = OwnerFigures(owner=None)
    for owner in Owner.objects.visible_to(principal).order_by("slug").only("pk", "slug", "name"):
        row = OwnerFigures(
            owner=owner,
            **sessions.get(owner.pk, {}),
            bearer_grants_live=grants.get(owner.pk, 0),
            schedules_failing=failing.get(owner.pk, 0),
        )
        totals.add(row)
        owners.append(row)
    minutes = trades_per_minute(principal=principal, now=now)
    try:
        hsm_status, hsm_error = keystore().status(), ""
    except HSMUnavailable as exc:
        hsm_status, hsm_error = {}, exc.detail
    return Dashboard(
        now=now,
        owners=owners,
        totals=totals,
        trades=_bars(minutes),
        trades_total=sum(trades for _, trades in minutes),
        trades_peak=max((trades for _, trades in minutes), default=0),
        audit=audit_chain_status(principal=principal),
        keys=[_labelled(row) for row in key_counts(principal=principal)],
        hsm_status=hsm_status,
        hsm_error=hsm_error,
        schedules=beat_schedule_list() if principal.sees_everything else [],
    )


def _labelled(row: dict[str, Any]) -> dict[str, Any]:
    purposes, states = dict(KeyPurpose.choices), dict(KeyState.choices)
    return {
        **row,
        "purpose_label": purposes.get(row["purpose"], row["purpose"]),
        "state_label": states.get(row["state"], row["state"]),
    }


def _bars(minutes: list[tuple[dt.datetime, int]]) -> list[TradeBar]:
    """One bar a minute, scaled to the busiest minute (an empty hour draws no bars)."""
    peak = max((trades for _, trades in minutes), default=0)
    slot = CHART_WIDTH // max(len(minutes), 1)
    bars = []
    for index, (minute, trades) in enumerate(minutes):
        height = round(trades / peak * CHART_HEIGHT) if peak else 0
        height = max(height, 1) if trades else 0
        bars.append(
            TradeBar(
                minute=minute,
                trades=trades,
                x=index * slot,
                y=CHART_HEIGHT - height,
                width=max(slot - 2, 1),
                height=height,
            )
        )
    return bars
