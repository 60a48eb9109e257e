"""HotPathInput: shallow field copies behave as DRF's deep copies do."""

from __future__ import annotations

from tokens.api.trade import TradeApi

TradeInput = TradeApi.TradeInput


def test_validations_share_no_state_and_the_declared_fields_stay_unbound():
    bad = TradeInput(data={"subject_token": "", "proof": {"time": "soon"}})
    assert not bad.is_valid()
    assert set(bad.errors) == {"subject_token", "proof"} and "time" in bad.errors["proof"]
    good = TradeInput(data={"subject_token": "sa1.x", "scope": "GET"})
    assert good.is_valid(), good.errors
    assert dict(good.validated_data) == {"subject_token": "sa1.x", "scope": "GET"}
    assert good.fields["subject_token"].parent is good
    assert good.fields["proof"] is not TradeInput._declared_fields["proof"]
    assert all(
        getattr(field, "parent", None) is None for field in TradeInput._declared_fields.values()
    )


def test_a_nested_proof_is_validated_per_instance():
    first = TradeInput(data={"subject_token": "t", "proof": {"time": 1, "nonce": "n" * 8}})
    second = TradeInput(
        data={"subject_token": "t", "proof": {"time": 1, "nonce": "n" * 8, "signature": "s"}}
    )
    assert not first.is_valid() and "signature" in first.errors["proof"]
    assert second.is_valid(), second.errors
    assert second.validated_data["proof"]["signature"] == "s"
