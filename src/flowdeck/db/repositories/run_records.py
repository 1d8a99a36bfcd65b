"""Run records as the API reads them: scoped like every other tenant-and-owner row."""

from __future__ import annotations

from flowdeck.db.models import Run
from flowdeck.db.repositories.base import Repository


class RunRepository(Repository[Run]):
    model = Run
    label = "run"


class JobRepository(RunRepository):
    """Runs seen as v2 workflow jobs."""

    label = "job"


class ResponseRepository(RunRepository):
    """Runs seen as OpenAI-style responses."""

    label = "response"
