"""HotPathInput: fields copied once and shared, bound to a serializer holding no request's data,
validate as DRF's per-instance deep copies do."""

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
    assert good.fields["subject_token"] is bad.fields["subject_token"]  # shared, once bound
    template = good.fields["subject_token"].parent
    assert template is not good and not hasattr(template, "initial_data")  # no request's data
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


def test_fields_that_read_their_parent_cannot_be_shared():
    import pytest
    from rest_framework import serializers

    from authority.api.common import HotPathInput

    class Careless(HotPathInput):
        user = serializers.HiddenField(default=serializers.CurrentUserDefault())

    with pytest.raises(TypeError, match="reads its parent"):
        Careless(data={}).is_valid()


def test_concurrent_validations_keep_their_own_answers():
    from concurrent.futures import ThreadPoolExecutor

    def validate(index: int):
        body = {"subject_token": f"sa1.{index}"} if index % 2 else {"subject_token": ""}
        serializer = TradeInput(data=body)
        return index, serializer.is_valid(), dict(serializer.validated_data or {})

    with ThreadPoolExecutor(8) as pool:
        for index, valid, data in pool.map(validate, range(400)):
            assert valid is bool(index % 2)
            assert data == ({"subject_token": f"sa1.{index}"} if valid else {})
