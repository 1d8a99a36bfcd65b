from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from flowdeck.engine import Engine
from flowdeck.engine.netpolicy import NetworkPolicy


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    # Component tests call HTTP servers on 127.0.0.1, which the default policy refuses.
    eng = Engine(network=NetworkPolicy(allow_private=True))
    yield eng
    await eng.aclose()
