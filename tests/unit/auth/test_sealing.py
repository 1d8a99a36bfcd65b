"""Sealed secrets: only the key they were sealed with opens them, and nothing altered opens."""

from __future__ import annotations

import pytest

from flowdeck.auth.sealing import MASK, SealedValueError, SecretBox, keep_unchanged, masked


def test_a_sealed_value_opens_with_its_key_only() -> None:
    box = SecretBox("server-secret")
    sealed = box.seal("sk-plain")
    assert "sk-plain" not in sealed
    assert box.seal("sk-plain") != sealed  # a fresh nonce every time
    assert box.open(sealed) == "sk-plain"
    assert SecretBox("server-secret").open(sealed) == "sk-plain"  # the key is derived again
    with pytest.raises(SealedValueError) as caught:
        SecretBox("another-secret").open(sealed)
    assert "sk-plain" not in caught.value.message


def test_an_altered_value_is_refused() -> None:
    box = SecretBox("server-secret")
    sealed = box.seal("sk-plain")
    flipped = sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
    with pytest.raises(SealedValueError):
        box.open(flipped)
    with pytest.raises(SealedValueError):
        box.open("not a sealed value")


def test_maps_masks_and_kept_values() -> None:
    box = SecretBox("k")
    assert box.seal_map({}) is None
    assert box.open_map(None) == {}
    sealed = box.seal_map({"A": "1", "B": "2"})
    assert sealed is not None
    assert box.open_map(sealed) == {"A": "1", "B": "2"}
    assert masked("x") == MASK
    assert masked("") is None
    assert keep_unchanged({"A": MASK, "C": "3", "D": MASK}, {"A": "1", "B": "2"}) == {
        "A": "1",
        "C": "3",
    }
    with pytest.raises(ValueError, match="secret"):
        SecretBox("")
