"""Token latency over SSE: from a model sending a token to the client receiving it.

A local OpenAI-style server (this file, `--fake-model`, its own process) streams TOKENS chunks
INTERVAL apart; each token's text carries the CLOCK_MONOTONIC time (shared by every process
on the machine) at which it was written to the socket. A real `flowdeck serve` runs a flow
ChatInput -> OpenAIChat(base_url = that server) -> ChatOutput, and the client reads
POST /api/v1/run/{flow_id}?stream=true, taking (receive - send) for every token event.
The reference is the same client reading the model server's stream directly.
Target (issue 3): p50 of (receive - send) at most 2 ms.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from typing import Any

import orjson

from bench._server import base_env, client, flowdeck_server, free_port, pct, run_loop, setup_flow
from bench._util import header, quick_mode, verdict

TARGET_P50_MS = 2.0
INTERVAL = 0.005  # between tokens, so each one travels alone


def _chunk(data: bytes) -> bytes:
    """One HTTP/1.1 chunk."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def _serve_model(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer each POST .../chat/completions with TOKENS streamed chunks, stamped when sent."""
    tokens = int(sys.argv[3])
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            await writer.drain()
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(tokens):
                await asyncio.sleep(INTERVAL)
                content = f"{i}@{time.monotonic_ns()};"
                delta = {"choices": [{"index": 0, "delta": {"content": content}}]}
                writer.write(_chunk(b"data: " + orjson.dumps(delta) + b"\n\n"))
                await writer.drain()
            writer.write(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _model_main(port: int) -> None:
    server = await asyncio.start_server(_serve_model, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def _stamp_latencies(text: str, received_ns: int) -> list[float]:
    """Seconds from send to receipt for every stamped token in `text`."""
    out = []
    for part in text.split(";"):
        if "@" in part:
            out.append((received_ns - int(part.split("@", 1)[1])) / 1e9)
    return out


async def _via_flowdeck(url: str, token: str, flow_id: str, runs: int) -> list[float]:
    latencies: list[float] = []
    async with client(url, token) as http:
        for _ in range(runs):
            path = f"/api/v1/run/{flow_id}?stream=true"
            async with http.stream("POST", path, json={"input_value": "hi"}) as resp:
                if resp.status_code != 200:
                    raise RuntimeError(f"stream answered {resp.status_code}")
                ended = False
                async for line in resp.aiter_lines():
                    now = time.monotonic_ns()
                    if not line.strip():
                        continue
                    event = orjson.loads(line)
                    if event["event"] == "token":
                        latencies.extend(_stamp_latencies(event["data"]["chunk"], now))
                    elif event["event"] in ("end", "error"):
                        ended = event["event"] == "end"
                if not ended:
                    raise RuntimeError("the streamed run did not end with `end`")
    return latencies


async def _direct(model_url: str, runs: int) -> list[float]:
    latencies: list[float] = []
    async with client(model_url) as http:
        for _ in range(runs):
            body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
            async with http.stream("POST", "/chat/completions", json=body) as resp:
                async for line in resp.aiter_lines():
                    now = time.monotonic_ns()
                    if line.startswith("data: {"):
                        chunk = orjson.loads(line[6:])
                        content = chunk["choices"][0]["delta"]["content"]
                        latencies.extend(_stamp_latencies(content, now))
    return latencies


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.perf_counter() + 20
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the fake model server exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("the fake model server did not start")


def main(quick: bool | None = None) -> bool:
    """Print the figures and the verdict; True when the target is met."""
    quick = quick_mode(quick)
    runs, tokens = (2, 20) if quick else (10, 200)
    header(f"server token latency over SSE ({runs} runs x {tokens} tokens)")
    port = free_port()
    model = subprocess.Popen(
        [sys.executable, "-m", "bench.server_sse", "--fake-model", str(port), str(tokens)],
        env=base_env(),
    )
    try:
        _wait_port(port, model)
        model_url = f"http://127.0.0.1:{port}/v1"
        flow: dict[str, Any] = {
            "nodes": [
                {"id": "in", "type": "ChatInput"},
                {
                    "id": "llm",
                    "type": "OpenAIChat",
                    "params": {"base_url": model_url, "model": "m"},
                },
                {"id": "out", "type": "ChatOutput"},
            ],
            "edges": [
                {"from": "in.message", "to": "llm.input_value"},
                {"from": "llm.message", "to": "out.input_value"},
            ],
        }
        # The fake model listens on 127.0.0.1, a private address flows may not reach by default.
        with flowdeck_server(allow_private_networks="true") as fd:
            token, flow_id = setup_flow(fd, flow, name="chat")
            run_loop(_via_flowdeck(fd.url, token, flow_id, 1))  # warm up
            ours = run_loop(_via_flowdeck(fd.url, token, flow_id, runs))
        direct = run_loop(_direct(model_url, runs))
    finally:
        model.terminate()
        model.wait(10)
    if len(ours) != runs * tokens:
        raise RuntimeError(f"received {len(ours)} of {runs * tokens} tokens through flowdeck")
    print(f"  {'path':38} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
    for name, samples in (
        ("model -> flowdeck -> client", ours),
        ("model -> client (reference)", direct),
    ):
        print(
            f"  {name:38} {pct(samples, 0.5) * 1e3:8.2f} {pct(samples, 0.9) * 1e3:8.2f}"
            f" {pct(samples, 0.99) * 1e3:8.2f}"
        )
    p50, ref_p50 = pct(ours, 0.5) * 1e3, pct(direct, 0.5) * 1e3
    print(f"  flowdeck adds {p50 - ref_p50:.2f} ms at p50 ({p50 / ref_p50:.1f}x the direct stream)")
    if quick:
        print("  (quick mode: too few tokens for the target)")
        return True
    return verdict(
        "token send -> client receipt, p50",
        p50 <= TARGET_P50_MS,
        f"{p50:.2f} ms (target ≤ {TARGET_P50_MS:g} ms; direct from the model {ref_p50:.2f} ms)",
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fake-model"]:
        asyncio.run(_model_main(int(sys.argv[2])))
    else:
        main()  # a missed target prints FAIL; only an error (an exception) exits non-zero
    sys.exit(0)
