"""`flowdeck run --stream`: progress on stderr, tokens on stdout as a model sends them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e.cli_support import EXAMPLES, flowdeck, write_flow


def test_stream_shows_progress_and_skipped_branches() -> None:
    proc = flowdeck("run", EXAMPLES / "router.yaml", "--input", "hello", "--stream")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Thanks for your message!\n"
    assert "Chat Input (in)" in proc.stderr
    assert "Support answer (support) skipped" in proc.stderr
    assert "completed" in proc.stderr


class _FakeOpenAI(BaseHTTPRequestHandler):
    """Answers /chat/completions with a streamed reply, token by token."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        for token in ("Hello", " from", " the model"):
            chunk = {"choices": [{"index": 0, "delta": {"content": token}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def model_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_stream_prints_tokens_once(tmp_path: Path, model_url: str) -> None:
    flow = write_flow(
        tmp_path / "chat.json",
        [
            {"id": "in", "type": "ChatInput"},
            {"id": "llm", "type": "OpenAIChat", "params": {"base_url": model_url, "model": "m"}},
            {"id": "out", "type": "ChatOutput"},
        ],
        [
            {"from": "in.message", "to": "llm.input_value"},
            {"from": "llm.message", "to": "out.input_value"},
        ],
    )
    proc = flowdeck("run", flow, "--input", "hi", "--stream")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello from the model\n"
    assert "OpenAI Chat (llm)" in proc.stderr
    plain = flowdeck("run", flow, "--input", "hi")
    assert plain.stdout == "Hello from the model\n"
    as_json = flowdeck("run", flow, "--input", "hi", "--stream", "-o", "json")
    assert as_json.returncode == 0, as_json.stderr
    answer = json.loads(as_json.stdout)["outputs"][0]["outputs"][0]
    assert answer["results"]["message"]["text"] == "Hello from the model"
    assert "Hello from the model" in as_json.stderr
