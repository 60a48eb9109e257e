"""The cache registry: every per-process cache is declared and attached once, and reset through it;
the tasks services send by name exist."""

from __future__ import annotations

import pytest

from authority.caches import KEY_TTL, Event, registry
from tokens.services.access_tokens import _verifying_keys

pytestmark = pytest.mark.django_db


def test_every_declared_cache_is_attached_by_the_code_that_uses_it():
    import authority.tasks  # noqa: F401 - every interface, so every service and cache, loaded
    import authority.urls  # noqa: F401
    import tokens.tasks  # noqa: F401

    assert registry.unattached() == []
    key_caches = [d for d in map(registry.declaration, ("hsm.active_keys", "hsm.keys_by_pk",
                                                        "tokens.verifying_keys"))]  # fmt: skip
    assert all(d.ttl == KEY_TTL and Event.KEY_DESTROYED in d.events for d in key_caches)


def test_an_undeclared_or_twice_attached_cache_is_refused():
    with pytest.raises(LookupError):
        registry.attach("nowhere.declared", clear=lambda: None)
    with pytest.raises(LookupError):
        registry.attach("tokens.verifying_keys", clear=lambda: None)


def test_clear_all_empties_every_cache():
    _verifying_keys.put("k" * 32, object())
    registry.clear_all()
    assert _verifying_keys.get("k" * 32) is None


def test_tasks_services_send_by_name_are_registered():
    import authority.tasks  # noqa: F401 - the interfaces that register them
    import tokens.tasks  # noqa: F401
    from authority.celery import app
    from tokens.services.sessions import DESTROY_SESSION_KEYS, SEAL_AUDIT_LOG

    assert {SEAL_AUDIT_LOG, DESTROY_SESSION_KEYS} <= set(app.tasks)
