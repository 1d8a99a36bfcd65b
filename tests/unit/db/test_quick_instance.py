"""quick_instance: rows made without attribute events, usable as the ORM would make them."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached

from flowdeck.db.base import quick_instance
from flowdeck.db.models import Run
from tests.conftest import TEST_TENANT


def test_a_quick_instance_is_a_run_like_any_other() -> None:
    run = quick_instance(Run, {"id": "r1", "state": "queued", "tenant_id": TEST_TENANT})
    assert (run.id, run.state, run.tenant_id, run.error) == ("r1", "queued", TEST_TENANT, None)
    make_transient_to_detached(run)
    assert inspect(run).detached
    assert inspect(run).identity == ("r1",)


def test_it_configures_the_mappers_in_a_fresh_process() -> None:
    # A worker's first row may come from the run store before any model was constructed.
    code = (
        "from sqlalchemy.orm import make_transient_to_detached\n"
        "from flowdeck.db.base import quick_instance\n"
        "from flowdeck.db.models import Run\n"
        "run = quick_instance(Run, {'id': 'r1', 'state': 'queued'})\n"
        "make_transient_to_detached(run)\n"
        "print(run.id, run.state)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["r1", "queued"]
