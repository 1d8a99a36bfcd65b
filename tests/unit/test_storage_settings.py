"""Storage settings: the distributed mode refuses per-process local storage, S3 needs a bucket."""

from __future__ import annotations

import pytest

from flowdeck.services.container import storage_for
from flowdeck.settings import SettingsError, load_settings
from flowdeck.storage import LocalStorage
from flowdeck.storage.s3 import S3Storage

DISTRIBUTED = {
    "FLOWDECK_DATABASE_URL": "postgresql://db/flowdeck",
    "FLOWDECK_BROKER_URL": "redis://127.0.0.1:6379/0",
    "FLOWDECK_REDIS_URL": "redis://127.0.0.1:6379/0",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in DISTRIBUTED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no stray .env file
    return monkeypatch


def test_distributed_mode_refuses_local_storage_naming_the_settings(
    env: pytest.MonkeyPatch,
) -> None:
    for name, value in DISTRIBUTED.items():
        env.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = caught.value.message
    for setting in (
        "FLOWDECK_BROKER_URL",
        "FLOWDECK_STORAGE=s3",
        "FLOWDECK_S3_BUCKET",
        "FLOWDECK_STORAGE_SHARED=true",
    ):
        assert setting in message
    assert message.count("invalid setting") == 1


def test_distributed_mode_takes_a_shared_directory_or_s3(env: pytest.MonkeyPatch) -> None:
    for name, value in DISTRIBUTED.items():
        env.setenv(name, value)
    env.setenv("FLOWDECK_STORAGE_SHARED", "true")
    shared = load_settings()
    assert isinstance(storage_for(shared), LocalStorage)
    env.delenv("FLOWDECK_STORAGE_SHARED")
    env.setenv("FLOWDECK_STORAGE", "s3")
    env.setenv("FLOWDECK_S3_BUCKET", "uploads")
    env.setenv("FLOWDECK_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    env.setenv("FLOWDECK_S3_PREFIX", "flowdeck")
    s3 = storage_for(load_settings())
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix, s3.endpoint_url) == (
        "uploads",
        "flowdeck/",
        "http://127.0.0.1:9000",
    )
    assert s3.key("f", "a.txt") == "flowdeck/f/a.txt"


def test_embedded_mode_keeps_local_storage(env: pytest.MonkeyPatch) -> None:
    assert load_settings().storage == "local"


def test_s3_settings_are_checked(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match="FLOWDECK_STORAGE=s3 needs FLOWDECK_S3_BUCKET"):
        load_settings(storage="s3")
    with pytest.raises(SettingsError, match="FLOWDECK_S3_PREFIX"):
        load_settings(storage="s3", s3_bucket="b", s3_prefix="/abs")
    with pytest.raises(SettingsError, match="FLOWDECK_STORAGE"):
        load_settings(storage="nfs")
