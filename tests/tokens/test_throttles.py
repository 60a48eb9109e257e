"""Throttles keyed by what they protect (issue 17): the trade and the token exchange per session
token, with a looser bucket per client address; the address never the client's own say
(X-Forwarded-For only through NUM_PROXIES trusted proxies); every 429 with Retry-After."""

from __future__ import annotations

import pytest

from authority import ratelimit
from authority.request_context import client_address
from tokens.api.throttles import (
    TokenExchangeAddressThrottle,
    TokenExchangeThrottle,
    TradeAddressThrottle,
    TradeThrottle,
)

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
DELEGATION = "urn:session-authority:token-type:delegation"


def _trade(world, token, **meta):
    return world["anonymous"].post("/api/v1/trade", {"subject_token": token}, format="json", **meta)


def _exchange(world, token, **meta):
    body = {"grant_type": EXCHANGE, "subject_token": token, "subject_token_type": DELEGATION}
    return world["anonymous"].post("/api/v1/token", body, **meta)


@pytest.fixture
def rates(monkeypatch):
    def set_rates(per_token: str, per_address: str) -> None:
        for throttle in (TradeThrottle, TokenExchangeThrottle):
            monkeypatch.setattr(throttle, "rate", per_token, raising=False)
        for throttle in (TradeAddressThrottle, TokenExchangeAddressThrottle):
            monkeypatch.setattr(throttle, "rate", per_address, raising=False)

    return set_rates


@pytest.mark.parametrize("call", [_trade, _exchange])
def test_each_session_token_has_its_own_bucket_behind_one_address(world, issue, rates, call):
    rates("2/minute", "100/minute")
    first, second = issue()["token"], issue()["token"]
    statuses = [call(world, first).status_code for _ in range(3)]
    statuses += [call(world, second).status_code for _ in range(2)]  # same address, own bucket
    assert statuses == [200, 200, 429, 200, 200]


@pytest.mark.parametrize("call", [_trade, _exchange])
def test_a_forged_forwarded_for_buys_nothing(world, issue, rates, call):
    rates("2/minute", "100/minute")
    token = issue()["token"]
    statuses = [
        call(world, token, HTTP_X_FORWARDED_FOR=f"203.0.113.{index}").status_code
        for index in range(4)
    ]
    assert statuses == [200, 200, 429, 429]


def test_the_address_bucket_bounds_many_tokens_from_one_address(world, issue, rates):
    rates("100/minute", "3/minute")
    tokens = [issue()["token"] for _ in range(4)]
    statuses = [
        _trade(world, token, HTTP_X_FORWARDED_FOR=f"203.0.113.{index}").status_code
        for index, token in enumerate(tokens)
    ]
    assert statuses == [200, 200, 200, 429]
    assert _trade(world, tokens[0], REMOTE_ADDR="198.51.100.2").status_code == 200


def test_every_throttled_answer_carries_retry_after(world, issue, rates):
    rates("1/minute", "100/minute")
    token = issue()["token"]
    for call in (_trade, _exchange):
        assert call(world, token).status_code == 200
        refused = call(world, token)
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 60


def test_the_client_address_trusts_only_the_configured_proxies(settings):
    meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.7"}
    assert client_address(meta) == "10.0.0.5"  # NUM_PROXIES = 0: the header is ignored
    settings.AUTHORITY = {**settings.AUTHORITY, "NUM_PROXIES": 1}
    assert client_address(meta) == "198.51.100.7"  # what our proxy saw, not the client's say
    settings.AUTHORITY = {**settings.AUTHORITY, "NUM_PROXIES": 2}
    assert client_address(meta) == "6.6.6.6"
    settings.AUTHORITY = {**settings.AUTHORITY, "NUM_PROXIES": 5}
    assert client_address(meta) == "6.6.6.6"  # fewer hops than proxies: the farthest
    assert client_address({**meta, "HTTP_X_FORWARDED_FOR": "not-an-ip"}) == "10.0.0.5"
    assert client_address({"REMOTE_ADDR": "10.0.0.5"}) == "10.0.0.5"


def test_behind_a_trusted_proxy_the_trade_is_counted_per_real_address(
    world, issue, rates, settings
):
    settings.AUTHORITY = {**settings.AUTHORITY, "NUM_PROXIES": 1}
    rates("100/minute", "2/minute")
    tokens = [issue()["token"] for _ in range(3)]
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    statuses = [
        _trade(world, tokens[0], HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy).status_code,
        _trade(world, tokens[1], HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy).status_code,
        _trade(world, tokens[2], HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy).status_code,
        _trade(world, tokens[2], HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy).status_code,
    ]
    assert statuses == [200, 200, 429, 200]


def test_rates_are_parsed_in_one_place():
    assert ratelimit.parse_rate("10/minute") == (10, 60)
    assert ratelimit.parse_rate("5/s") == (5, 1)
    assert ratelimit.parse_rate("600/hour") == (600, 3600)
    assert ratelimit.parse_rate("1/day") == (1, 86400)
    for wrong in ("ten/minute", "10", "10/fortnight"):
        with pytest.raises(ValueError, match="Not a rate"):
            ratelimit.parse_rate(wrong)


def test_counter_names_hold_no_secret_and_survive_an_audit_key_change(settings):
    token = "sa1.secret-part"
    name = ratelimit.subject_key("session-token", token)
    assert token not in name and "secret" not in name
    settings.AUTHORITY = {**settings.AUTHORITY, "AUDIT_KEY": "another-audit-key"}
    assert ratelimit.subject_key("session-token", token) == name
    assert ratelimit.subject_key("address", token) != name
