"""The dashboard and the main lists in a real browser: an operator logs in, reads the figures
against what the test made, and the pages are saved as screenshots (var/screenshots/)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from authority.models import Owner, Role
from authority.principals import SYSTEM
from authority.services.audit import audit_chain_check, audit_seal
from tests.console.world import populate

FIGURES = ("live", "expiring", "cancelled_today", "bearer_grants_live", "schedules_failing")


def test_an_owner_admin_reads_the_dashboard_and_the_lists(
    page: Page,
    acme: Owner,
    globex: Owner,
    member: Callable[..., Any],
    log_in: Callable[[Page, Any], None],
    screenshot: Callable[[Page, str], Any],
) -> None:
    admin = member(acme, Role.ADMIN)
    made = populate(acme, admin)
    populate(globex, member(globex, Role.ADMIN), scale=2)
    audit_seal()
    audit_chain_check(actor=SYSTEM)

    log_in(page, admin)
    row = page.locator('tr[data-owner="acme"]')
    for name in FIGURES:
        expect(row.locator(f'[data-figure="{name}"]')).to_have_text(str(getattr(made, name)))
    expect(page.locator('[data-figure="trades_total"]')).to_have_text(str(made.trades))
    expect(page.locator("#dash-audit")).to_contain_text("verified")
    expect(page.locator("#content-main")).not_to_contain_text("Globex")
    expect(page.locator(".trade-chart rect")).to_have_count(1)
    screenshot(page, "dashboard")

    # A figure leads to the rows it counts.
    row.locator('[data-figure="live"] a').click()
    expect(page.locator("#result_list tbody tr")).to_have_count(made.live)
    expect(page.locator("#result_list")).to_contain_text("Active")
    expect(page.locator("#result_list")).to_contain_text(made.application.name)
    # State and expiry stay on a 1400-pixel screen: no horizontal scroll to reach them.
    for column in ("column-state_badge", "column-expires"):
        box = page.locator(f"#result_list thead th.{column}").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1400, column
    page.goto("/admin/tokens/session/")
    screenshot(page, "sessions")

    page.goto("/admin/")
    page.click("#hsm-status-link")
    expect(page.locator("#content")).to_contain_text("Backend")
    screenshot(page, "hsm-status")

    for name, url in [
        ("bearer-grants", "/admin/tokens/bearergrant/"),
        ("containers", "/admin/authority/container/"),
        ("audit", "/admin/authority/auditevent/"),
        ("keys", "/admin/hsm/keyrecord/"),
        ("renewal-schedules", "/admin/tokens/renewalschedule/"),
    ]:
        page.goto(url)
        expect(page.locator("#result_list")).to_be_visible()
        expect(page.locator("#result_list")).not_to_contain_text("Globex")
        screenshot(page, name)


def test_a_superuser_sees_every_owner_and_the_scheduled_jobs(
    page: Page,
    acme: Owner,
    globex: Owner,
    member: Callable[..., Any],
    log_in: Callable[[Page, Any], None],
    screenshot: Callable[[Page, str], Any],
) -> None:
    from django.core.management import call_command

    from tests.factories import UserFactory

    call_command("setup_schedules")
    made = populate(acme, member(acme, Role.ADMIN))
    populate(globex, member(globex, Role.ADMIN), scale=2)
    log_in(page, UserFactory(is_superuser=True))
    expect(page.locator('tr[data-owner="globex"] [data-figure="live"]')).to_have_text("4")
    expect(page.locator('tr[data-owner="acme"] [data-figure="live"]')).to_have_text(str(made.live))
    expect(page.locator("#dash-beat")).to_be_visible()
    screenshot(page, "dashboard-superuser")

    page.goto("/admin/tokens/nothing-here/")
    expect(page.locator("#content")).to_contain_text("Not found")
    screenshot(page, "error-404")
