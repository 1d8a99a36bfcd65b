"""`langflow-sdk` (PyPI), unchanged: runs, streams, tweaks, projects, upserts.

flowdeck keeps the seed's integer user ids where Langflow has UUIDs; the SDK's `Flow` model
types `user_id` as a UUID, so the calls that answer a `Flow` reject that one field (see
the README's Clients section). Every other field of those answers parses.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from typing import Any

import pytest
from langflow_sdk import AsyncClient, Client
from langflow_sdk.exceptions import LangflowAuthError, LangflowNotFoundError
from langflow_sdk.models import FlowCreate, ProjectCreate, ProjectUpdate, RunRequest
from pydantic import ValidationError

from tests.clients.conftest import FAILING, GREETING, Deck

LANGFLOW_EVENTS = {"vertices_sorted", "build_start", "end_vertex", "add_message", "token"}


def client_of(deck: Deck, api_key: str | None = None) -> Client:
    return Client(deck.url, api_key=api_key or deck.api_key, timeout=30)


def only_user_id_rejected(exc: ValidationError) -> bool:
    return {e["loc"] for e in exc.errors()} == {("user_id",)}


def test_run_and_first_text(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    with client_of(deck) as client:
        response = client.run(flow["id"], input_value="Ada")
    assert response.first_text_output() == "Hello Ada!"
    assert response.is_completed()
    assert response.session_id


def test_run_flow_with_tweaks(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    request = RunRequest(input_value="Bo", tweaks={"greet": {"template": "Yo {name}"}})
    with client_of(deck) as client:
        assert client.run_flow(flow["id"], request).first_text_output() == "Yo Bo"


def test_stream_asks_in_the_body(deck: Deck) -> None:
    """The SDK asks for a stream with `"stream": true` in the body, not in the query."""
    flow = deck.add_flow(GREETING)
    with client_of(deck) as client:
        chunks = list(client.stream(flow["id"], input_value="Cy"))
    names = [c.event for c in chunks]
    assert names[0] == "vertices_sorted"
    assert chunks[-1].is_end
    assert set(names[:-1]) <= LANGFLOW_EVENTS, names
    # Langflow's add_message carries the message's fields at the top level (`text`).
    assert "Hello Cy!" in [c.data["text"] for c in chunks if c.event == "add_message"]
    final = chunks[-1].final_response()
    assert final is not None
    assert final.first_text_output() == "Hello Cy!"


def test_a_failing_stream_ends_with_error(deck: Deck) -> None:
    flow = deck.add_flow(FAILING)
    with client_of(deck) as client:
        chunks = list(client.stream(flow["id"], input_value="not json"))
    assert chunks[0].event == "vertices_sorted"
    assert chunks[-1].is_error
    assert not any(c.is_end for c in chunks)


def test_async_client_and_background_job(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)

    async def go() -> str | None:
        async with AsyncClient(deck.url, api_key=deck.api_key, timeout=30) as client:
            job = await client.run_background(flow["id"], input_value="Di")
            response = await job.wait_for_completion(timeout=30)
            return response.get_chat_output()

    assert asyncio.run(go()) == "Hello Di!"


def test_projects_crud(deck: Deck) -> None:
    with client_of(deck) as client:
        made = client.create_project(ProjectCreate(name=f"p-{uuid.uuid4().hex[:6]}"))
        assert made.id in {p.id for p in client.list_projects()}
        renamed = client.update_project(made.id, ProjectUpdate(description="about"))
        assert renamed.description == "about"
        assert client.get_project(made.id).flows == []
        client.delete_project(made.id)
        with pytest.raises(LangflowNotFoundError):
            client.get_project(made.id)


def test_project_download_and_upload(deck: Deck) -> None:
    with client_of(deck) as client:
        project = client.create_project(ProjectCreate(name=f"zip-{uuid.uuid4().hex[:6]}"))
    deck.add_flow(GREETING, name="zipped", project_id=str(project.id))
    with client_of(deck) as client:
        files = client.download_project(project.id)
        assert len(files) == 1
        doc: dict[str, Any] = json.loads(next(iter(files.values())))
        assert doc["name"] == "zipped"
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("again.json", json.dumps({**doc, "name": "again"}))
        with pytest.raises(ValidationError) as rejected:
            client.upload_project(archive.getvalue())
    assert only_user_id_rejected(rejected.value)
    with deck.http() as http:
        names = {f["name"] for f in http.get("/api/v1/flows/").json()}
    assert "again" in names


def test_upsert_flow_creates_then_updates(deck: Deck) -> None:
    """PUT /api/v1/flows/{id}: 201 when created with that id, 200 when updated."""
    flow_id = uuid.uuid4()
    body = FlowCreate(name=f"up-{flow_id.hex[:6]}", data=GREETING)
    with client_of(deck) as client:
        with pytest.raises(ValidationError) as created:
            client.upsert_flow(flow_id, body)
        assert only_user_id_rejected(created.value)
        assert client.run(flow_id, input_value="Ed").first_text_output() == "Hello Ed!"
        changed = body.model_copy(update={"description": "second"})
        with pytest.raises(ValidationError):
            client.upsert_flow(flow_id, changed)
    with deck.http() as http:
        stored = http.get(f"/api/v1/flows/{flow_id}").json()
        other = http.put(f"/api/v1/flows/{flow_id}", json={"name": stored["name"]})
    assert stored["description"] == "second"
    assert other.status_code == 200


def test_a_wrong_key_is_refused(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    with client_of(deck, api_key="sk-not-a-key") as client, pytest.raises(LangflowAuthError):
        client.run(flow["id"], input_value="x")
