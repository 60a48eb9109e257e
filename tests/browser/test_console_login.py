"""The operator console in a real browser: the harness itself (log in, see one's owners only)."""

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from authority.models import Owner, Role


def test_an_owner_admin_logs_in_and_sees_only_its_owner(
    page: Page,
    acme: Owner,
    globex: Owner,
    member: Callable[..., Any],
    log_in: Callable[[Page, Any], None],
    screenshot: Callable[[Page, str], Any],
) -> None:
    admin = member(acme, Role.ADMIN)
    log_in(page, admin)
    page.goto("/admin/authority/owner/")
    expect(page.locator("#result_list")).to_contain_text("Acme")
    expect(page.locator("#result_list")).not_to_contain_text("Globex")
    screenshot(page, "owners-as-acme-admin")
