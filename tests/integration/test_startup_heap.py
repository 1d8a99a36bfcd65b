"""`flowdeck serve` holds garbage collection off for its start-up; the app settles it."""

from __future__ import annotations

import gc

from flowdeck import heap
from flowdeck.api.app import create_app
from flowdeck.settings import Settings


async def test_an_app_started_with_collection_off_turns_it_on_with_start_up_frozen(
    settings: Settings,
) -> None:
    thresholds = gc.get_threshold()
    heap.hold()  # as `flowdeck serve` does before its imports
    try:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold() == heap.THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        gc.enable()


async def test_an_app_started_otherwise_leaves_collection_as_it_was(settings: Settings) -> None:
    frozen, thresholds = gc.get_freeze_count(), gc.get_threshold()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert gc.isenabled()
        assert gc.get_freeze_count() == frozen
        assert gc.get_threshold() == thresholds
