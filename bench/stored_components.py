"""Stored components per run: a flow whose step is a stored component, against the same step
written inline as a PythonFunction.

A real `flowdeck serve` (custom code allowed) on a fresh SQLite data dir. Both flows are
ChatInput -> step -> ChatOutput, and both steps run the same function in a worker thread;
the stored one is found by name in the tenant's registry, so what it adds per run is the
lookup that keeps an edited component current and whatever of its compiled form is not kept.
Sync runs, one at a time on a keep-alive connection; the two flows alternate in rounds.
Target (issue 14): a run of the stored component's flow costs at most 1.25x the inline one.
"""

from __future__ import annotations

import sys
from typing import Any

import httpx

from bench._server import (
    PASSWORD,
    Server,
    flowdeck_server,
    load_client,
    pct,
    run_loop,
    sequential_latencies,
)
from bench._util import header, quick_mode, verdict

TARGET_RATIO = 1.25
CODE = """
INPUTS = ["text", {"name": "times", "type": "Number", "default": 2}]
OUTPUTS = [{"name": "result", "type": "Message"}]

def build(text, times):
    return {"result": (text.upper() + "!") * int(times)}
"""
INLINE = """
def build(text):
    return (text.upper() + "!") * 2
"""


def _flow(step: dict[str, Any], output: str) -> dict[str, Any]:
    return {
        "nodes": [{"id": "in", "type": "ChatInput"}, step, {"id": "out", "type": "ChatOutput"}],
        "edges": [
            {"from": "in.message", "to": f"step.{'text' if output == 'result' else 'input_value'}"},
            {"from": f"step.{output}", "to": "out.input_value"},
        ],
    }


def _setup(server: Server) -> tuple[str, str, str]:
    """(token, id of the stored component's flow, id of the inline one)."""
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as http:
        login = http.post("/api/v1/login", data={"username": "admin", "password": PASSWORD})
        token: str = login.raise_for_status().json()["access_token"]
        http.headers["authorization"] = f"Bearer {token}"
        group = http.post(
            "/api/v1/components/groups",
            json={"group_name": "Text", "group_en_name": "text", "component_type": "component"},
        ).raise_for_status()
        http.post(
            "/api/v1/components/",
            json={
                "component_group_id": group.json()["group_id"],
                "component_name": "Shout",
                "code": CODE,
            },
        ).raise_for_status()
        stored = _flow({"id": "step", "type": "Shout"}, "result")
        inline = _flow(
            {"id": "step", "type": "PythonFunction", "params": {"code": INLINE}},
            "function_output_str",
        )
        ids = []
        for name, data in (("stored", stored), ("inline", inline)):
            made = http.post("/api/v1/flows/", json={"name": name, "data": data})
            ids.append(made.raise_for_status().json()["id"])
            ran = http.post(f"/api/v1/run/{ids[-1]}", json={"input_value": "hi"})
            if ran.status_code != 200 or "HI!HI!" not in ran.text:
                raise RuntimeError(f"the {name} flow did not run: {ran.status_code} {ran.text}")
    return token, ids[0], ids[1]


async def _latencies(server: Server, token: str, flow_id: str, count: int) -> list[float]:
    async with load_client(server.url, token, connections=1) as http:

        async def call() -> Any:
            resp = await http.post(f"/api/v1/run/{flow_id}", json={"input_value": "hi"})
            if resp.status_code != 200:
                raise RuntimeError(f"run answered {resp.status_code}: {resp.text[:300]}")
            return resp

        await sequential_latencies(call, 10)
        return await sequential_latencies(call, count)


def main(quick: bool | None = None) -> bool:
    """Print the figures and the verdict; True when the target is met."""
    quick = quick_mode(quick)
    rounds, count = (1, 20) if quick else (5, 200)
    header("stored components per run (sync runs, stored component against inline code)")
    samples: dict[str, list[float]] = {"stored": [], "inline": []}
    with flowdeck_server(allow_custom_code="true") as fd:
        token, stored_id, inline_id = _setup(fd)
        for _ in range(rounds):
            for name, flow_id in (("stored", stored_id), ("inline", inline_id)):
                samples[name].extend(run_loop(_latencies(fd, token, flow_id, count)))
    print(f"  {'step':10} {'p50 ms':>8} {'p90 ms':>8}   ({rounds} rounds of {count} runs each)")
    for name, lat in samples.items():
        print(f"  {name:10} {pct(lat, 0.5) * 1000:8.2f} {pct(lat, 0.9) * 1000:8.2f}")
    ratio = pct(samples["stored"], 0.5) / pct(samples["inline"], 0.5)
    if quick:
        print(f"  stored / inline: {ratio:.2f}x (quick mode: too few runs for the target)")
        return True
    return verdict(
        "a stored component's run against the same code inline, p50",
        ratio <= TARGET_RATIO,
        f"{ratio:.2f}x (target ≤ {TARGET_RATIO:g}x)",
    )


if __name__ == "__main__":
    main()  # a missed target prints FAIL; only an error (an exception) exits non-zero
    sys.exit(0)
