"""Flow files: reading uploads (a flow, a list, {flows}, a zip), writing downloads, starters."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from flowdeck.errors import FlowFormatError
from flowdeck.schemas.flows import FlowRead

STARTERS = Path(__file__).resolve().parent.parent / "starter_projects"
MAX_MEMBERS = 1000
MAX_UNZIPPED = 256 * 1024 * 1024
# Keys of an uploaded flow that point at the exporting server's rows, not ours.
_FOREIGN = ("id", "user_id", "project_id", "folder_id", "tenant_id", "online_version_id")


@dataclass
class FlowFile:
    """What an uploaded file holds: flows, and a project name and description if it gives one."""

    flows: list[dict[str, Any]] = field(default_factory=list)
    name: str | None = None
    description: str | None = None


def read_flow_file(filename: str | None, content: bytes) -> FlowFile:
    """Read a flow JSON, a JSON list, a {"flows": [...]} object, or a zip of such files."""
    name = filename or "upload.json"
    stem = PurePosixPath(name).stem
    if content[:4] == b"PK\x03\x04" or name.lower().endswith(".zip"):
        return _read_zip(name, stem, content)
    return _from_doc(_json(name, content), name, stem)


def _json(name: str, content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise FlowFormatError(f"{name} is not valid JSON: {exc}", field="file") from exc


def _read_zip(name: str, stem: str, content: bytes) -> FlowFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise FlowFormatError(f"{name} is not a valid zip file", field="file") from exc
    members = [
        m
        for m in archive.infolist()
        if not m.is_dir()
        and m.filename.lower().endswith(".json")
        and not m.filename.startswith("__MACOSX/")
    ]
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED:
        raise FlowFormatError(
            f"{name} holds too much (at most {MAX_MEMBERS} files and "
            f"{MAX_UNZIPPED // 2**20} MiB unzipped)",
            field="file",
        )
    out = FlowFile(name=stem)
    for member in sorted(members, key=lambda m: m.filename):
        where = f"{name}/{member.filename}"
        try:
            raw = archive.read(member)
        except (zipfile.BadZipFile, OSError) as exc:
            raise FlowFormatError(f"cannot read {where}: {exc}", field="file") from exc
        part = _from_doc(_json(where, raw), where, PurePosixPath(member.filename).stem)
        out.flows.extend(part.flows)
        out.description = out.description or part.description
    if not out.flows:
        raise FlowFormatError(f"{name} holds no .json flow files", field="file")
    return out


def _from_doc(doc: Any, where: str, stem: str) -> FlowFile:
    out = FlowFile()
    if isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict) and isinstance(doc.get("flows"), list):
        items = doc["flows"]
        out.name = _text(doc.get("folder_name") or doc.get("name"))
        out.description = _text(doc.get("folder_description") or doc.get("description"))
    elif isinstance(doc, dict):
        items = [doc]
    else:
        raise FlowFormatError(
            f'{where}: expected a flow object, a list of flows, or {{"flows": [...]}}', field="file"
        )
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise FlowFormatError(f"{where}: flow {i} is not an object", field="file")
        out.flows.append(_flow_doc(item, stem))
    return out


def _flow_doc(item: dict[str, Any], stem: str) -> dict[str, Any]:
    if "nodes" in item and "data" not in item:  # a bare graph
        return {"name": _text(item.get("name")) or stem or "Untitled", "data": item}
    doc = {k: v for k, v in item.items() if k not in _FOREIGN}
    doc["name"] = _text(doc.get("name")) or stem or "Untitled"
    return doc


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _has_api_terms(word: str) -> bool:
    word = word.lower()
    return "api" in word and ("key" in word or ("token" in word and "tokens" not in word))


def strip_secrets(data: Any) -> Any:
    """Blank API keys and tokens in a graph (Langflow's password fields, native params)."""
    nodes = data.get("nodes") if isinstance(data, dict) else None
    for node in nodes if isinstance(nodes, list) else ():
        if not isinstance(node, dict):
            continue
        params = node.get("params")
        if isinstance(params, dict):
            for key in params:
                if _has_api_terms(key):
                    params[key] = None
        inner = node.get("data")
        template = (inner.get("node") or {}).get("template") if isinstance(inner, dict) else None
        if isinstance(template, dict):
            for key, fld in template.items():
                if (
                    isinstance(fld, dict)
                    and fld.get("password")
                    and _has_api_terms(str(fld.get("name") or key))
                ):
                    fld["value"] = None
    return data


def export(read: FlowRead) -> dict[str, Any]:
    """A flow as a downloadable document, without secrets."""
    doc = read.model_dump(mode="json")
    strip_secrets(doc.get("data"))
    return doc


def zip_flows(docs: list[dict[str, Any]]) -> bytes:
    """A zip with one `<name>.json` per flow."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for doc in docs:
            base = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", str(doc.get("name") or "flow")).strip()
            name, n = f"{base or 'flow'}.json", 1
            while name in used:
                name, n = f"{base} ({n}).json", n + 1
            used.add(name)
            archive.writestr(name, orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return buffer.getvalue()


def zip_name(label: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_") or "flows"
    return f"{stamp}_{safe}.zip"


@lru_cache(maxsize=1)
def _starter_bytes() -> tuple[bytes, ...]:
    return tuple(p.read_bytes() for p in sorted(STARTERS.glob("*.json")))


def starter_flows() -> list[dict[str, Any]]:
    """The flows shipped with flowdeck (fresh copies, safe to change)."""
    return [orjson.loads(raw) for raw in _starter_bytes()]
