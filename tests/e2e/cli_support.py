"""Running the `flowdeck` command as a user does: a real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
HELLO = EXAMPLES / "hello.json"
_SCRIPT = Path(sys.executable).with_name("flowdeck")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "flowdeck"]


def flowdeck(
    *args: str | Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "FLOWDECK_ALLOW_CUSTOM_CODE"}
    full_env.update({"NO_PROXY": "127.0.0.1,localhost", **(env or {})})
    return subprocess.run(
        [*COMMAND, *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr
    assert "Traceback" not in proc.stdout
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def write_flow(path: Path, nodes: list[dict[str, object]], edges: list[dict[str, str]]) -> Path:
    path.write_text(json.dumps({"nodes": nodes, "edges": edges}))
    return path
