"""Files: a flow's files (v1) and a user's files (v2), on the real app and database."""

from __future__ import annotations

import io
import os
import zipfile

import httpx
from tests.integration.api.flow_docs import create

from flowdeck.settings import Settings

V1 = "/api/v1/files"
V2 = "/api/v2/files"
# Every byte value, and more than one 64 KiB chunk, so streaming and binary safety both show.
BLOB = bytes(range(256)) * 600 + os.urandom(1000)
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(64)


async def upload_v1(
    client: httpx.AsyncClient, flow_id: str, name: str, content: bytes
) -> httpx.Response:
    return await client.post(f"{V1}/upload/{flow_id}", files={"file": (name, content)})


async def test_flow_file_round_trip_list_and_delete(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    flow_id = (await create(client, "With files"))["id"]
    resp = await upload_v1(client, flow_id, "data.bin", BLOB)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["flowId"] == flow_id
    folder, name = body["file_path"].split("/")
    assert folder == flow_id
    assert name.endswith("_data.bin")
    # Bytes on disk under the data dir, and back out exactly.
    assert (settings.data_dir / "files" / flow_id / name).read_bytes() == BLOB
    got = await client.get(f"{V1}/download/{flow_id}/{name}")
    assert got.status_code == 200
    assert got.content == BLOB
    assert got.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert got.headers["content-length"] == str(len(BLOB))
    # The trailing-slash form answers too.
    assert (await client.get(f"{V1}/download/{flow_id}/{name}/")).content == BLOB

    image = (await upload_v1(client, flow_id, "pic.png", PNG)).json()["file_path"].split("/")[1]
    listed = await client.get(f"{V1}/list/{flow_id}")
    assert listed.json() == {"files": [name, image]}

    shown = await client.get(f"{V1}/images/{flow_id}/{image}")
    assert shown.status_code == 200
    assert shown.content == PNG
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["content-disposition"].startswith("inline")
    not_image = await client.get(f"{V1}/images/{flow_id}/{name}")
    assert not_image.status_code == 400
    assert not_image.json()["field"] == "file_name"

    gone = await client.delete(f"{V1}/delete/{flow_id}/{name}")
    assert gone.status_code == 200
    assert gone.json() == {"message": f"File {name} deleted successfully"}
    assert not (settings.data_dir / "files" / flow_id / name).exists()
    assert (await client.get(f"{V1}/list/{flow_id}")).json() == {"files": [image]}
    missing = await client.get(f"{V1}/download/{flow_id}/{name}")
    assert missing.status_code == 404
    assert missing.json()["field"] == "file_name"
    assert (await client.delete(f"{V1}/delete/{flow_id}/{name}")).status_code == 404


async def test_flow_file_names_cannot_escape(client: httpx.AsyncClient, settings: Settings) -> None:
    flow_id = (await create(client, "Guarded"))["id"]
    for bad in ("../evil.txt", "sub/evil.txt", "..\\evil.txt", "/etc/passwd"):
        resp = await upload_v1(client, flow_id, bad, b"x")
        assert resp.status_code == 400, (bad, resp.text)
        assert resp.json()["field"] == "file"
    assert not list((settings.data_dir / "files").rglob("evil.txt"))
    assert (await client.get(f"{V1}/list/{flow_id}")).json() == {"files": []}
    # `..` and backslashes that reach the path parameter are refused, naming it.
    for bad in ("%2E%2E", "..%5Csecret_key", "a%00b"):
        for method, path in (
            ("GET", f"{V1}/download/{flow_id}/{bad}"),
            ("GET", f"{V1}/images/{flow_id}/{bad}"),
            ("DELETE", f"{V1}/delete/{flow_id}/{bad}"),
        ):
            resp = await client.request(method, path)
            assert resp.status_code == 400, (path, resp.text)
            assert resp.json()["field"] == "file_name"
    nameless = await upload_v1(client, flow_id, "", b"x")
    assert nameless.status_code == 422
    assert nameless.json()["detail"][0]["loc"] == ["body", "file"]


async def test_other_users_flow_files_are_404(
    client: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    flow_id = (await create(alice, "Alice's"))["id"]
    name = (await upload_v1(alice, flow_id, "a.txt", b"alice")).json()["file_path"].split("/")[1]
    for method, path in (
        ("GET", f"{V1}/download/{flow_id}/{name}"),
        ("GET", f"{V1}/images/{flow_id}/{name}"),
        ("GET", f"{V1}/list/{flow_id}"),
        ("DELETE", f"{V1}/delete/{flow_id}/{name}"),
    ):
        assert (await bob.request(method, path)).status_code == 404, path
        assert (await anon.request(method, path)).status_code == 401, path
    assert (await upload_v1(bob, flow_id, "b.txt", b"bob")).status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await upload_v1(alice, unknown, "b.txt", b"x")).status_code == 404
    assert (await alice.get(f"{V1}/list/not-a-uuid")).status_code == 422
    # Alice's file is untouched.
    assert (await alice.get(f"{V1}/download/{flow_id}/{name}")).content == b"alice"


async def test_profile_pictures_from_the_data_dir(
    anon: httpx.AsyncClient, settings: Settings
) -> None:
    assert (await anon.get(f"{V1}/profile_pictures/list")).json() == {"files": []}
    people = settings.data_dir / "profile_pictures" / "People"
    people.mkdir(parents=True)
    (people / "p1.svg").write_bytes(b"<svg/>")
    assert (await anon.get(f"{V1}/profile_pictures/list")).json() == {"files": ["People/p1.svg"]}
    got = await anon.get(f"{V1}/profile_pictures/People/p1.svg")
    assert got.content == b"<svg/>"
    assert got.headers["content-type"] == "image/svg+xml"
    assert (await anon.get(f"{V1}/profile_pictures/People/none.svg")).status_code == 404
    assert (await anon.get(f"{V1}/profile_pictures/%2E%2E/secret_key")).status_code == 400


async def upload_v2(
    client: httpx.AsyncClient, name: str, content: bytes, **params: str
) -> dict[str, object]:
    resp = await client.post(V2, files={"file": (name, content)}, params=params)
    assert resp.status_code == 201, resp.text
    body: dict[str, object] = resp.json()
    return body


async def test_user_file_upload_list_download_rename(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    made = await upload_v2(client, "report.bin", BLOB)
    assert made["name"] == "report"
    assert made["size"] == len(BLOB)
    assert made["is_self"] is True
    assert str(made["path"]).startswith(f"{made['user_id']}/")
    assert str(made["path"]).endswith(".bin")
    assert {"id", "tenant_id", "user_id", "created_at", "updated_at", "provider"} <= made.keys()
    # A taken name gets a number, Langflow's way.
    again = await upload_v2(client, "report.txt", b"second")
    third = await upload_v2(client, "report.bin", b"third")
    assert (again["name"], third["name"]) == ("report (1)", "report (2)")
    listed = (await client.get(V2)).json()
    assert [f["name"] for f in listed] == ["report", "report (1)", "report (2)"]
    assert [f["name"] for f in (await client.get(f"{V2}/")).json()] == [
        "report",
        "report (1)",
        "report (2)",
    ]

    got = await client.get(f"{V2}/{made['id']}")
    assert got.status_code == 200
    assert got.content == BLOB
    assert got.headers["content-disposition"] == 'attachment; filename="report.bin"'
    text = await client.get(f"{V2}/{again['id']}", params={"return_content": "true"})
    assert text.json() == "second"
    binary = await client.get(f"{V2}/{made['id']}", params={"return_content": "true"})
    assert binary.status_code == 400
    assert binary.json()["field"] == "return_content"

    renamed = await client.put(f"{V2}/{made['id']}", params={"name": "Résumé"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Résumé"
    assert renamed.json()["path"] == made["path"]
    got = await client.get(f"{V2}/{made['id']}")
    assert got.content == BLOB
    assert got.headers["content-disposition"] == "attachment; filename*=utf-8''R%C3%A9sum%C3%A9.bin"
    for bad in ("../x", "a/b", ".."):
        resp = await client.put(f"{V2}/{made['id']}", params={"name": bad})
        assert resp.status_code == 400
        assert resp.json()["field"] == "name"
    assert (await client.put(f"{V2}/{made['id']}")).status_code == 422

    # Append adds to the file with that name instead of making a new one.
    appended = await upload_v2(client, "report (1).txt", b"+more", append="true")
    assert appended["id"] == again["id"]
    assert appended["size"] == len(b"second+more")
    assert (await client.get(f"{V2}/{again['id']}")).content == b"second+more"
    traversal = await client.post(V2, files={"file": ("../up.txt", b"x")})
    assert traversal.status_code == 400
    assert traversal.json()["field"] == "file"


async def test_user_file_delete_one_batch_and_all(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ids = [
        str((await upload_v2(client, f"f{i}.txt", f"content {i}".encode()))["id"]) for i in range(4)
    ]
    stored = settings.data_dir / "files"
    assert len(list(stored.rglob("*.txt"))) == 4

    one = await client.delete(f"{V2}/{ids[0]}")
    assert one.json() == {"detail": "File f0 deleted successfully"}
    assert (await client.get(f"{V2}/{ids[0]}")).status_code == 404
    assert (await client.delete(f"{V2}/{ids[0]}")).status_code == 404

    batch = await client.request("DELETE", f"{V2}/batch/", json=[ids[1], ids[2]])
    assert batch.status_code == 200
    assert batch.json() == {
        "message": "2 files deleted successfully",
        "files_deleted": 2,
        "files_kept": 0,
    }
    assert [f["id"] for f in (await client.get(V2)).json()] == [ids[3]]
    none = await client.request("DELETE", f"{V2}/batch/", json=[ids[1]])
    assert none.status_code == 404

    await upload_v2(client, "late.txt", b"late")
    everything = await client.delete(V2)
    assert everything.json() == {
        "message": "All files deleted successfully",
        "files_deleted": 2,
        "files_kept": 0,
    }
    assert (await client.get(V2)).json() == []
    assert not list(stored.rglob("*.txt"))


async def test_batch_download_is_a_zip_of_the_files(client: httpx.AsyncClient) -> None:
    a = await upload_v2(client, "notes.txt", b"alpha")
    b = await upload_v2(client, "data.bin", BLOB)
    c = await upload_v2(client, "other.txt", b"gamma")
    # Two files that end up with the same entry name both go in.
    await client.put(f"{V2}/{c['id']}", params={"name": "notes"})
    resp = await client.post(f"{V2}/batch/", json=[a["id"], b["id"], c["id"]])
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/x-zip-compressed"
    assert resp.headers["content-disposition"].endswith('_flowdeck_files.zip"')
    with zipfile.ZipFile(io.BytesIO(resp.content)) as archive:
        contents = {n: archive.read(n) for n in archive.namelist()}
    assert contents == {"notes.txt": b"alpha", "data.bin": BLOB, "notes (1).txt": b"gamma"}
    only_b = await client.post(f"{V2}/batch", json=[b["id"]])
    with zipfile.ZipFile(io.BytesIO(only_b.content)) as archive:
        assert archive.namelist() == ["data.bin"]
    assert (await client.post(f"{V2}/batch/", json=[])).status_code == 404
    assert (await client.post(f"{V2}/batch/", json=["nope"])).status_code == 422


async def test_user_files_are_private(
    client: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    mine = await upload_v2(alice, "secret.txt", b"alice only")
    file_id = str(mine["id"])
    assert (await bob.get(V2)).json() == []
    assert (await bob.get(f"{V2}/{file_id}")).status_code == 404
    assert (await bob.put(f"{V2}/{file_id}", params={"name": "mine"})).status_code == 404
    assert (await bob.delete(f"{V2}/{file_id}")).status_code == 404
    assert (await bob.post(f"{V2}/batch/", json=[file_id])).status_code == 404
    assert (await bob.request("DELETE", f"{V2}/batch/", json=[file_id])).status_code == 404
    assert (await bob.delete(V2)).json()["files_deleted"] == 0
    # Even the superuser's own list and delete-all keep to its own files.
    assert (await client.get(V2)).json() == []
    assert (await client.delete(V2)).json()["files_deleted"] == 0
    assert (await anon.get(V2)).status_code == 401
    assert (await alice.get(f"{V2}/{file_id}")).content == b"alice only"
    # Same name for another user: no number needed.
    assert (await upload_v2(bob, "secret.txt", b"bob"))["name"] == "secret"


async def test_upload_over_the_size_limit_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # The app holds this same settings object; the HTTP body cap was fixed at start, so this
    # exercises the storage's own check while the bytes stream in.
    settings.max_body_bytes = 4096
    flow_id = (await create(client, "Small files"))["id"]
    for resp in (
        await client.post(V2, files={"file": ("big.bin", b"x" * 5000)}),
        await upload_v1(client, flow_id, "big.bin", b"x" * 5000),
    ):
        assert resp.status_code == 400, resp.text
        assert resp.json()["field"] == "file"
    assert (await client.get(V2)).json() == []
    assert (await client.get(f"{V1}/list/{flow_id}")).json() == {"files": []}
    assert not [p for p in (settings.data_dir / "files").rglob("*") if p.is_file()]
