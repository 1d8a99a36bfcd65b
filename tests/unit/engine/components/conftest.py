from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from flowdeck.engine import Engine


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    eng = Engine()
    yield eng
    await eng.aclose()
