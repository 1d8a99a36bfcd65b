"""The OpenAPI tells the truth: schemathesis calls every operation and checks every answer.

Every check schemathesis has runs (status codes, content types, headers, response schemas,
negative data rejected, positive data accepted, stateful ones), over examples, fuzzing and
stateful sequences, with a fixed number of examples per operation and a fixed seed, so the
run is bounded and repeatable. It runs against a real uvicorn server on 127.0.0.1 holding
one SQLite database, as the logged-in superuser.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema
from tests.conftest import ADMIN
from tests.unit.engine.components._support import serve

from flowdeck.api.app import create_app
from flowdeck.settings import Settings

# Examples per operation: ~300 operations in about half a minute on 2 shared cores.
MAX_EXAMPLES = 5
SEED = 20261201

# Inputs valid by their JSON Schema that the app still refuses with 400, rightly: what
# makes them wrong is not something JSON Schema can say. For these operations only, 400
# joins the statuses `positive_data_acceptance` takes for schema-valid data.
SEMANTIC_400 = {
    # A flow's graph: edges must name nodes and fields that exist, types must fit.
    "POST /api/v1/flows/": "graph",
    "PATCH /api/v1/flows/{flow_id}": "graph",
    "POST /api/v1/flows/batch/": "graph",
    "POST /flows": "graph",
    "PUT /flows/{flow_id}": "graph",
    "PATCH /flows/{flow_id}": "graph",
    # An uploaded file must hold flow JSON (or a zip of it).
    "POST /api/v1/flows/upload/": "file content",
    "POST /api/v1/projects/upload/": "file content",
    # Opaque cursors: only the ones the server handed out decode.
    "GET /api/v1/flow-runs": "cursor",
    "GET /api/v1/executions": "cursor",
    "GET /x/flows": "cursor",
    # Names in the body that must be the flow's: components in tweaks, output_component,
    # the inputs an execution's parameters or a flow run's args set.
    "POST /api/v1/run/{flow_id_or_name}": "the flow's components",
    "POST /api/v1/flow-runs": "the flow's components",
    "POST /api/v1/executions": "the flow's components",
    "POST /x/flows": "the flow's components",
    # Rules across fields: lines_before and lines_after exclude each other, lines_after
    # needs a timestamp; a rename needs new_session_id or new_session_name; the body's id
    # must be the path's; input items must hold some user text.
    "GET /logs": "parameters depend on each other",
    "PATCH /api/v1/monitor/messages/session/{old_session_id}": "one of two parameters",
    "PUT /api/v1/flow-runs/{id_}": "body id is the path id",
    "POST /api/v1/responses": "input items need user text",
    # The seeds' 400s: an unknown flow_id; no run of the flow in the session.
    "DELETE /flows/{flow_id}": "seed",
    "GET /api/v3/flows/inspector/{flow_slug}/": "seed",
    # A stored file's name: no separators, control characters, drive letters, > 255 bytes.
    "GET /api/v1/files/profile_pictures/{folder_name}/{file_name}": "file name",
}
ACCEPTED_FOR_VALID = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


@pytest.mark.openapi
@pytest.mark.timeout(300)
# One database: the run is the longest test; what differs per database is tested elsewhere.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_operation_answers_as_documented(settings: Settings) -> None:
    with serve(create_app(settings), lifespan="on") as url:
        login = httpx.post(f"{url}/api/v1/login", data={"username": ADMIN[0], "password": ADMIN[1]})
        assert login.status_code == 200, login.text
        # The first read builds the document (seconds on a loaded machine); later reads are
        # served from the app's cache within the loader's own timeout.
        assert httpx.get(f"{url}/openapi.json", timeout=120).status_code == 200
        config = schemathesis.Config.from_dict(
            {
                "seed": SEED,
                "headers": {"Authorization": f"Bearer {login.json()['access_token']}"},
                "request-timeout": 30,
                "max-stream-events": 5,
                "generation": {
                    "max-examples": MAX_EXAMPLES,
                    "deterministic": True,
                    "database": "none",
                },
                "cache": {"enabled": False},
                # The coverage phase tries every boundary of every parameter: its cases grow
                # with each schema, unbounded by max-examples (3 of its 4 minutes here).
                # Examples, fuzzing (positive and negative) and stateful sequences remain.
                "phases": {"coverage": {"enabled": False}},
                "operations": [
                    {
                        "include-name": name,
                        "checks": {
                            "positive_data_acceptance": {
                                "expected-statuses": [*ACCEPTED_FOR_VALID, "400"]
                            }
                        },
                    }
                    for name in SEMANTIC_400
                ],
            }
        )
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=config)
        problems = list(_problems(from_schema(schema).execute()))
    assert not problems, f"{len(problems)} problems:\n" + "\n\n".join(problems)


def _problems(stream: Any) -> Iterator[str]:
    """Each failed check (with the request that reproduces it) and each error, once."""
    seen: set[tuple[str, str]] = set()
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            for node in (n for nodes in event.recorder.checks.values() for n in nodes):
                if node.status != Status.FAILURE or node.failure_info is None:
                    continue
                failure = node.failure_info.failure
                key = (f"{failure.operation} {failure.title}", failure.message[:120])
                if key not in seen:
                    seen.add(key)
                    yield f"{key[0]}: {failure.message}\n{node.failure_info.code_sample}"
        elif isinstance(event, events.NonFatalError | events.FatalError):
            yield f"error: {getattr(event, 'label', '')} {event.info.format()}"
