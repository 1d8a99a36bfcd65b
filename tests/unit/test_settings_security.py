"""Security settings read from the environment: CORS origins and the private-network default."""

from __future__ import annotations

import pytest

from flowdeck.settings import SettingsError, load_settings


def test_cors_origins_as_a_comma_list_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDECK_CORS_ORIGINS", "https://a.example, https://b.example")
    assert load_settings().cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("FLOWDECK_CORS_ORIGINS", '["https://c.example"]')
    assert load_settings().cors_origins == ["https://c.example"]
    monkeypatch.delenv("FLOWDECK_CORS_ORIGINS")
    assert load_settings().cors_origins == []
    monkeypatch.setenv("FLOWDECK_CORS_ORIGINS", "[not json")
    with pytest.raises(SettingsError, match="FLOWDECK_CORS_ORIGINS"):
        load_settings()


def test_private_networks_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWDECK_AUTO_LOGIN", "true")
    assert load_settings().private_networks_allowed is True
    monkeypatch.setenv("FLOWDECK_ALLOW_PRIVATE_NETWORKS", "false")
    assert load_settings().private_networks_allowed is False
    monkeypatch.delenv("FLOWDECK_AUTO_LOGIN")
    monkeypatch.setenv("FLOWDECK_ALLOW_PRIVATE_NETWORKS", "true")
    assert load_settings().private_networks_allowed is True


def test_every_flowdeck_name_the_code_mentions_is_a_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A name the code reads or suggests (say, in an error message) but settings do not know
    would stop the server at start as an unknown setting."""
    import re
    from pathlib import Path

    import flowdeck
    from flowdeck.settings import Settings

    not_settings = {"FLOWDECK_EVENTS", "FLOWDECK_X"}  # a constant; the docstring's example
    source = Path(flowdeck.__file__).parent
    named = {
        m
        for path in source.rglob("*.py")
        for m in re.findall(r"FLOWDECK_[A-Z0-9_]+", path.read_text())
    } - not_settings
    known = {"FLOWDECK_" + name.upper() for name in Settings.model_fields}
    assert named - known == set()
    monkeypatch.setenv("FLOWDECK_DEBUG", "1")
    assert load_settings().debug is True
