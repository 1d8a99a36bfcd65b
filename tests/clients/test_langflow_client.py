"""`langflow-client` (PyPI), unchanged: runs, streams, tweaks, sessions, files, upserts."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from langflow_client import LangflowClient
from langflow_client.errors import LangflowError

from tests.clients.conftest import FAILING, GREETING, Deck

LANGFLOW_EVENTS = {"vertices_sorted", "build_start", "end_vertex", "add_message", "token"}


def client_of(deck: Deck, api_key: str | None = None) -> LangflowClient:
    return LangflowClient({"base_url": deck.url, "api_key": api_key or deck.api_key})


def test_run_reads_the_chat_output(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    response = client_of(deck).flow(flow["id"]).run("Ada")
    assert response.chat_output_text() == "Hello Ada!"
    assert response.session_id


def test_run_by_endpoint_name(deck: Deck) -> None:
    name = f"greet-{uuid.uuid4().hex[:6]}"
    deck.add_flow(GREETING, endpoint_name=name)
    assert client_of(deck).flow(name).run("Bob").chat_output_text() == "Hello Bob!"


def test_tweaks_change_a_component(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    tweaked = client_of(deck).flow(flow["id"]).tweak("greet", {"template": "Bye {name}."})
    assert tweaked.run("Cy").chat_output_text() == "Bye Cy."
    # A tweak given to the run wins over the flow's.
    once = tweaked.run("Cy", tweaks={"greet": {"template": "Hi {name}?"}})
    assert once.chat_output_text() == "Hi Cy?"


def test_session_id_is_kept(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    session = f"session-{uuid.uuid4().hex[:8]}"
    response = client_of(deck).flow(flow["id"]).run("Dee", session_id=session)
    assert response.session_id == session
    with deck.http() as http:
        runs = http.get("/api/v1/runs/", params={"flow_id": flow["id"]}).json()
    items = runs["items"] if isinstance(runs, dict) else runs
    assert {r["session_id"] for r in items} == {session}


def test_stream_is_langflows_event_stream(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    events = list(client_of(deck).flow(flow["id"]).stream("Eve"))
    names = [e["event"] for e in events]
    assert names[0] == "vertices_sorted"
    assert names[-1] == "end"
    assert set(names[:-1]) <= LANGFLOW_EVENTS, names
    messages = [e["data"]["text"] for e in events if e["event"] == "add_message"]
    assert "Hello Eve!" in messages
    result: dict[str, Any] = events[-1]["data"]["result"]
    assert result["session_id"]


def test_a_failing_run_streams_error_last(deck: Deck) -> None:
    flow = deck.add_flow(FAILING)
    names = [e["event"] for e in client_of(deck).flow(flow["id"]).stream("not json")]
    assert names[0] == "vertices_sorted"
    assert names[-1] == "error"
    assert "end" not in names
    assert set(names[:-1]) <= LANGFLOW_EVENTS, names


def test_flowdeck_events_only_when_asked(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    client = client_of(deck)
    body = json.dumps({"input_value": "Fay"})
    asked = list(
        client.stream(
            path=f"/v1/run/{flow['id']}?flowdeck_events=true",
            method="POST",
            body=body,
            headers={"Content-Type": "application/json"},
        )
    )
    assert "state" in {e["event"] for e in asked}
    assert asked[-1]["event"] == "end"


def test_user_files_upload_list_delete(deck: Deck) -> None:
    client = client_of(deck)
    name = f"notes-{uuid.uuid4().hex[:6]}.txt"
    uploaded = client.files.upload(io.BytesIO(b"hello files"), filename=name)
    assert uploaded.name.startswith(name.removesuffix(".txt"))
    assert uploaded.size == len(b"hello files")
    assert uploaded.id in {f.id for f in client.files.list()}
    client.files.delete(uploaded.id)
    assert uploaded.id not in {f.id for f in client.files.list()}


def test_flow_file_upload(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    sent = client_of(deck).flow(flow["id"]).upload_file(io.BytesIO(b"a,b\n1,2\n"), filename="t.csv")
    assert sent.flow_id == flow["id"]
    assert sent.file_path.startswith(flow["id"])


def test_upsert_with_put_creates_then_updates(deck: Deck) -> None:
    client = client_of(deck)
    flow_id = str(uuid.uuid4())
    doc = {"name": f"upsert-{flow_id[:6]}", "data": GREETING}

    def put(body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = client.request(
            path=f"/v1/flows/{flow_id}",
            method="PUT",
            body=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        return answer

    created = put(doc)
    assert created["id"] == flow_id
    updated = put({**doc, "description": "changed"})
    assert updated["id"] == flow_id
    assert updated["description"] == "changed"
    assert client.flow(flow_id).run("Gus").chat_output_text() == "Hello Gus!"


def test_a_wrong_key_is_refused(deck: Deck) -> None:
    flow = deck.add_flow(GREETING)
    with pytest.raises(LangflowError, match=r"403|401"):
        client_of(deck, api_key="sk-not-a-key").flow(flow["id"]).run("x")
