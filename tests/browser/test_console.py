"""The console in a real browser: sign in, flows, graph, playground, live runs, controls, keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from bench._server import ECHO, PASSWORD, Server
from playwright.sync_api import Route

from tests.browser.conftest import LAST_WORD, Api, Console
from tests.integration.api.flow_docs import ASK
from tests.integration.api.test_runs import delayed
from tests.unit.engine.components._support import flow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def chat_flow(model_url: str) -> dict[str, Any]:
    llm = {"base_url": model_url, "api_key": "sk-local", "model": "local", "stream": True}
    return flow(
        [("in", "ChatInput", {}), ("llm", "OpenAIChat", llm), ("out", "ChatOutput", {})],
        [("in.message", "llm.input_value"), ("llm.message", "out.input_value")],
    )


def approval_flow() -> dict[str, Any]:
    nodes = [("in", "ChatInput", {}), ("gate", "Approval", {"prompt": "Ship it?"})]
    nodes += [("yes", "ChatOutput", {}), ("no", "ChatOutput", {})]
    return flow(
        nodes,
        [
            ("in.message", "gate.input_value"),
            ("gate.approved", "yes.input_value"),
            ("gate.rejected", "no.input_value"),
        ],
    )


def test_sign_in_and_out(console: Console) -> None:
    page = console.page
    page.goto(console.url + "/")
    page.get_by_role("heading", name="Sign in to flowdeck").wait_for()
    console.shot("sign-in")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="incorrect username or password").wait_for()
    console.errors.clear()  # the 401 above is logged by the browser as a failed resource
    console.sign_in()
    assert page.locator("#whoami").inner_text() == "admin"
    # The token is kept in sessionStorage; the console never relies on cookies.
    assert page.evaluate("sessionStorage.getItem('flowdeck.token')")
    assert page.context.cookies() == []
    console.shot("flows-empty")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to flowdeck").wait_for()
    assert page.evaluate("sessionStorage.getItem('flowdeck.token')") is None


def test_docs_are_served_offline(console: Console, server: Server) -> None:
    page = console.page
    foreign: list[str] = []
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith((server.url, "blob:", "data:")) else foreign.append(r.url)
        ),
    )
    page.goto(server.url + "/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="flowdeck").wait_for()
    console.shot("docs", full_page=False)
    page.goto(server.url + "/redoc")
    page.locator("h1").filter(has_text="flowdeck").first.wait_for()
    console.shot("redoc", full_page=False)
    assert foreign == []


NATIVE_YAML = """\
name: Greeter
description: says hello
nodes:
  - {id: in, type: ChatInput}
  - {id: greet, type: Prompt Template, params: {template: "Hello {name}!"}}
  - {id: out, type: ChatOutput}
edges:
  - {from: in.message, to: greet.name}
  - {from: greet.prompt, to: out.input_value}
"""


def test_import_flows_see_graph_and_edit(console: Console, tmp_path: Path) -> None:
    page = console.open("/#/flows")
    page.get_by_role("heading", name="Flows").wait_for()
    flow_file = tmp_path / "greeter.yaml"
    flow_file.write_text(NATIVE_YAML)
    page.locator("#import-file").set_input_files(str(flow_file))
    page.get_by_role("heading", name="Greeter").wait_for()
    nodes = page.locator("svg.graph .node")
    assert nodes.count() == 3
    assert page.locator("svg.graph .edge").count() == 2
    assert "Prompt Template" in (page.locator('[data-node-id="greet"]').text_content() or "")
    # Laid out left to right: input, prompt, output.
    xs = [page.locator(f'[data-node-id="{n}"]').bounding_box()["x"] for n in ("in", "greet", "out")]
    assert xs == sorted(xs)
    assert len(set(xs)) == 3
    console.shot("flow-graph")

    # Edit a field with the keyboard: focus the node, Enter opens its fields.
    page.locator('[data-node-id="greet"]').focus()
    page.keyboard.press("Enter")
    template = page.get_by_role("textbox", name="template")
    template.fill("Hi {name}, welcome!")
    template.dispatch_event("change")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Flow saved").wait_for()
    # An invalid change is refused and marked on its node.
    page.locator('[data-node-id="greet"]').click()
    page.get_by_label("new field name").fill("no_such_field")
    page.get_by_label("new field value").fill("x")
    page.get_by_role("button", name="Set field").click()
    # Checked as it is made (POST /api/v1/validate/flow), before any save.
    page.locator('[data-node-id="greet"].has-problem').wait_for()
    page.get_by_text("These changes make the flow invalid.").wait_for()
    console.shot("flow-edit-checked")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Not saved: the flow is invalid.").wait_for()
    page.locator('[data-node-id="greet"].has-problem').wait_for()
    assert "no_such_field" in page.locator(".problems").first.inner_text()
    console.errors.clear()  # the refused save (422) is logged by the browser as a failed load
    console.shot("flow-invalid-edit")

    # A refused import shows the file's graph with the faulty node marked.
    page.goto(console.url + "/#/flows")
    flow_file.write_text(NATIVE_YAML.replace("{template:", "{nope: 1, template:"))
    page.locator("#import-file").set_input_files(str(flow_file))
    page.locator('[role="alert"] [data-node-id="greet"].has-problem').wait_for()
    assert "greet.nope" in page.get_by_role("alert").inner_text()
    console.errors.clear()  # the refused import (422)
    console.shot("flow-import-refused")

    # A Langflow export goes through the upload route.
    page.goto(console.url + "/#/flows")
    page.locator("#import-file").set_input_files(str(EXAMPLES / "hello.json"))
    page.get_by_role("heading", name="Hello").wait_for()
    assert page.locator("svg.graph .node").count() == 2
    page.goto(console.url + "/#/flows")
    page.get_by_label("Search flows").fill("greet")
    page.locator("tbody tr").filter(has_text="Greeter").wait_for()
    page.wait_for_function("document.querySelectorAll('tbody tr').length === 1")


def test_versions_and_deployment(console: Console, api: Api) -> None:
    flow_id = api.flow("deployable", ECHO)
    page = console.open(f"/#/flows/{flow_id}")
    page.get_by_label("version", exact=True).fill("1.0")
    page.get_by_role("button", name="Save as version").click()
    page.get_by_role("button", name="Publish version 1.0").click()
    page.get_by_text("Version 1.0 is online").wait_for()
    assert api.client.get(f"/api/v1/flows/{flow_id}").json()["is_online"] is True
    page.get_by_role("button", name="Pause").click()
    page.locator("#deploy-status").filter(has_text="paused").wait_for()
    page.get_by_role("button", name="Soft stop").click()
    page.locator("#deploy-status").filter(has_text="stopped").wait_for()
    page.get_by_role("button", name="Start").click()
    page.locator("#deploy-status").filter(has_text="running").wait_for()
    console.shot("flow-versions-deployment")


def test_playground_streams_tokens_and_steps(console: Console, api: Api, model_url: str) -> None:
    flow_id = api.flow("chat", chat_flow(model_url))
    page = console.open(f"/#/flows/{flow_id}/play")
    page.get_by_label("message").fill("one two three four five six seven eight")
    with LAST_WORD.held() as release:
        page.get_by_role("button", name="Send").click()
        # While the model streams: the model step is running and the answer is partial.
        page.locator('[data-node-id="llm"].state-running').wait_for()
        page.locator(".msg.ai.streaming").filter(has_text="seven").wait_for()
        partial = page.locator(".msg.ai").inner_text()
        assert partial.startswith("Echo:")
        assert "eight" not in partial
        console.shot("playground-streaming")
        release.set()
    answer = "Echo: one two three four five six seven eight"
    page.locator(".msg.ai:not(.streaming)").filter(has_text=answer).wait_for()
    for node in ("in", "llm", "out"):
        page.locator(f'[data-node-id="{node}"].state-completed').wait_for()
    page.locator("#run-status .badge").filter(has_text="completed").wait_for()
    console.shot("playground-done")


def test_runs_list_updates_live(console: Console, api: Api) -> None:
    flow_id = api.flow("slow", delayed(1.5))
    page = console.open(f"/#/runs?flow={flow_id}")
    page.get_by_text("No runs.").wait_for()
    page.locator('[data-live="true"]').wait_for()  # the runs feed is open
    page.evaluate("window.__sameDocument = true")
    reads: list[str] = []
    page.on("request", lambda r: reads.append(r.url) if "/api/v1/runs/?" in r.url else None)
    run_id = api.background_run(flow_id)
    row = page.locator(f'tr[data-run-id="{run_id}"]')
    row.locator(".badge").filter(has_text="running").wait_for()
    console.shot("runs-running")
    # A step's change is painted from the feed's event, within 100 ms of it (the delay step
    # ends, then the output step runs and ends).
    page.wait_for_function(
        f"document.querySelector('tr[data-run-id=\"{run_id}\"]')?.dataset.step === 'out:completed'"
    )
    lag = page.evaluate(
        f"""() => {{ const d = document.querySelector('tr[data-run-id="{run_id}"]').dataset;
        return Date.parse(d.paintedAt) - Date.parse(d.eventAt); }}"""
    )
    assert 0 <= lag < 100, lag
    row.locator(".badge").filter(has_text="completed").wait_for(timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert row.get_by_role("progressbar").get_attribute("aria-valuenow") == "100"
    # No polling: the page read the list again only to take in the new run.
    assert len(reads) <= 2, reads
    # Filter by state on the server.
    page.get_by_label("State").select_option("failed")
    page.get_by_text("No runs.").wait_for()
    page.get_by_label("State").select_option("completed")
    row.wait_for()
    console.shot("runs-completed")


def test_cancel_a_run(console: Console, api: Api) -> None:
    flow_id = api.flow("long", delayed(30))
    run_id = api.background_run(flow_id)
    # The first connection to the run's events fails: the page connects again by itself.
    failed: list[str] = []

    def fail_once(route: Route) -> None:
        if failed:
            route.continue_()
        else:
            failed.append(route.request.url)
            route.abort()

    console.page.route("**/api/v1/build/*/events*", fail_once)
    page = console.open(f"/#/runs/{run_id}")
    page.locator('[data-node-id="wait"].state-running').wait_for()
    page.locator("#run-state .badge").filter(has_text="running").wait_for()
    assert len(failed) == 1
    console.errors.clear()  # the failed connection
    console.shot("run-running")
    page.get_by_role("button", name="Cancel").click()
    page.locator("#run-state .badge").filter(has_text="cancelled").wait_for()
    assert api.run(run_id)["state"] == "cancelled"
    console.shot("run-cancelled")


def test_answer_a_waiting_step(console: Console, api: Api) -> None:
    flow_id = api.flow("ask", ASK)
    run_id = api.background_run(flow_id, "the question")
    page = console.open(f"/#/runs/{run_id}")
    page.locator('[data-node-id="ask"].state-waiting').wait_for()
    page.get_by_text("Step ask is waiting for an answer").wait_for()
    console.shot("run-waiting")
    page.get_by_label("answer").fill("forty-two")
    page.get_by_role("button", name="Send answer").click()
    page.locator("#run-state .badge").filter(has_text="completed").wait_for()
    page.locator('[data-node-id="out"].state-completed').wait_for()
    record = api.run(run_id)
    assert record["state"] == "completed"
    assert record["reviewed_by"] is not None
    for tab in ("Timeline", "Logs", "Messages", "Outputs", "Plan"):
        page.get_by_role("tab", name=tab).click()
    page.get_by_role("tab", name="Messages").click()
    page.locator(".tabpanel").get_by_text("forty-two").wait_for()
    page.get_by_role("tab", name="Timeline").click()
    assert page.locator(".tl-row").count() == 3
    console.shot("run-answered")


def test_create_copy_and_delete_an_api_key(console: Console, server: Server) -> None:
    console.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = console.open("/#/keys")
    page.get_by_label("key name").fill("ci")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key").inner_text()
    assert key.startswith("sk-")
    page.get_by_role("button", name="Copy").click()
    page.get_by_text("Copied to the clipboard").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == key
    console.shot("api-keys")
    # The key works for any client; the list shows only its preview.
    resp = httpx.get(f"{server.url}/api/v1/flows/", headers={"x-api-key": key}, trust_env=False)
    assert resp.status_code == 200
    assert key not in page.locator("table").inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete key ci").click()
    page.get_by_text("No API keys.").wait_for()
    resp = httpx.get(f"{server.url}/api/v1/flows/", headers={"x-api-key": key}, trust_env=False)
    assert resp.status_code == 401


def test_first_load_is_small_and_bearer_only(console: Console, server: Server) -> None:
    page = console.page
    requests: list[Any] = []
    page.on("requestfinished", lambda r: requests.append(r))
    console.sign_in()
    page.wait_for_load_state("networkidle")
    assets = [
        r
        for r in requests
        if r.url.startswith(server.url + "/console/") or r.url == server.url + "/"
    ]
    transferred = sum(r.sizes()["responseBodySize"] for r in assets)
    assert 0 < transferred <= 300 * 1024, transferred
    api_calls = [r for r in requests if "/api/" in r.url]
    assert api_calls
    for r in api_calls:
        headers = r.all_headers()
        assert "cookie" not in headers, r.url
        if not r.url.endswith(("/api/v1/login", "/api/v1/config")):
            assert headers.get("authorization", "").startswith("Bearer "), r.url


def test_dark_and_narrow(browser: Any, server: Server, api: Api, artifacts: Path) -> None:
    flow_id = api.flow("narrow", ECHO)
    context = browser.new_context(viewport={"width": 390, "height": 800}, color_scheme="dark")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.url + "/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")  # submit from the keyboard
    page.get_by_role("heading", name="Flows").wait_for()
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 19, 24)"
    page.screenshot(path=str(artifacts / "dark-narrow-flows.png"), full_page=True)
    page.goto(f"{server.url}/#/flows/{flow_id}")
    page.locator("svg.graph .node").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "dark-narrow-flow.png"), full_page=True)
    context.close()
    assert errors == []


def test_pause_resume_and_approve(console: Console, api: Api) -> None:
    flow_id = api.flow("gated", approval_flow())
    run_id = api.background_run(flow_id, "release 1.0")
    page = console.open(f"/#/runs/{run_id}")
    page.get_by_text("Step gate is waiting for approval").wait_for()
    page.get_by_role("button", name="Pause").click()
    page.locator("#run-state .badge").filter(has_text="paused").wait_for()
    page.get_by_role("button", name="Resume").click()
    page.locator("#run-state .badge").filter(has_text="waiting").wait_for()
    console.shot("run-approval")
    page.get_by_role("button", name="Approve").click()
    page.locator("#run-state .badge").filter(has_text="completed").wait_for()
    page.locator('[data-node-id="yes"].state-completed').wait_for()
    page.locator('[data-node-id="no"].state-inactive').wait_for()
    record = api.run(run_id)
    assert record["reviewed_by"] is not None
    assert [s["state"] for s in record["steps"] if s["id"] == "yes"] == ["completed"]


STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)


def test_works_under_a_strict_content_security_policy(console: Console, api: Api) -> None:
    """No inline script or style anywhere: the page's own policy violations are console errors."""
    flow_id = api.flow("strict", ASK)
    run_id = api.background_run(flow_id)

    def with_csp(route: Route) -> None:
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    console.page.route(console.url + "/", with_csp)
    page = console.open(f"/#/runs/{run_id}")
    page.get_by_text("Step ask is waiting for an answer").wait_for()
    page.get_by_role("tab", name="Timeline").click()
    page.locator(".tl-bar").first.wait_for()
    page.goto(f"{console.url}/#/flows/{flow_id}")
    page.locator("svg.graph .node").first.wait_for()
    page.goto(f"{console.url}/#/runs")
    page.get_by_role("progressbar").first.wait_for()
    # The policy is in force: an inline style attribute is refused (and reported).
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<i id=probe style=color:red>')")
    assert page.evaluate("getComputedStyle(probe).color") != "rgb(255, 0, 0)"
    assert any("Content Security Policy" in e for e in console.errors)
    console.errors.clear()


def test_tenant_picker_names_the_tenant_on_every_call(console: Console, api: Api) -> None:
    made = api.client.post("/api/v1/tenants/", json={"tenant_name": "acme-console"})
    assert made.status_code == 201, made.text
    acme = made.json()["tenant_id"]
    in_acme = api.client.post(
        "/api/v1/flows/", json={"name": "acme-only", "data": ECHO}, headers={"Tenant-Id": acme}
    )
    assert in_acme.status_code == 201, in_acme.text
    page = console.open("/#/flows")
    page.get_by_role("heading", name="Flows").wait_for()
    picker = page.get_by_label("tenant to act in")
    assert "acme-console" in picker.inner_text()
    sent: list[str | None] = []
    page.on(
        "request", lambda r: sent.append(r.headers.get("tenant-id")) if "/api/" in r.url else None
    )
    picker.select_option(label="acme-console")
    page.locator("tbody tr").filter(has_text="acme-only").wait_for()
    assert sent
    assert set(sent) == {acme}
    console.shot("tenant-picked")
    # Remembered across reloads: the flows of acme still, and the picker says so.
    page.reload()
    page.locator("tbody tr").filter(has_text="acme-only").wait_for()
    assert page.get_by_label("tenant to act in").input_value() == acme


def test_session_is_refreshed_before_the_token_expires(console: Console) -> None:
    page = console.page
    page.clock.install()
    console.sign_in()
    before = page.evaluate("sessionStorage.getItem('flowdeck.token')")
    with page.expect_response("**/api/v1/refresh") as refreshed:
        page.clock.run_for(24 * 3600 * 1000)  # past any access token's lifetime
    assert refreshed.value.status == 200
    page.wait_for_function(f"sessionStorage.getItem('flowdeck.token') !== {before!r}")
    # Still signed in, with the new token.
    page.get_by_role("navigation", name="main").get_by_role("link", name="Runs").click()
    page.get_by_role("heading", name="Runs").wait_for()
    assert page.get_by_role("button", name="Sign out").is_visible()


def test_a_runs_page_draws_the_graph_that_ran(console: Console, api: Api) -> None:
    flow_id = api.flow("versioned", ECHO)
    made = api.client.post(f"/api/v1/flows/{flow_id}/versions/", json={"version": "v1"})
    assert made.status_code == 201, made.text
    # The draft moves on (a third step); the run of v1 still shows v1's two.
    grown = {
        "nodes": [*ECHO["nodes"], {"id": "extra", "type": "ChatOutput"}],
        "edges": [*ECHO["edges"], {"from": "in.message", "to": "extra.input_value"}],
    }
    assert api.client.patch(f"/api/v1/flows/{flow_id}", json={"data": grown}).status_code == 200
    ran = api.client.post(f"/api/v1/run/release/{flow_id}", params={"v": "v1"}, json={})
    assert ran.status_code == 200, ran.text
    page = console.open(f"/#/runs/{ran.json()['run_id']}")
    page.get_by_text("The graph of version v1, which this run executed.").wait_for()
    assert page.locator("svg.graph .node").count() == 2
    page.locator('[data-node-id="out"].state-completed').wait_for()
    console.shot("run-version-graph")


def test_a_member_of_two_tenants_picks_one(console: Console, api: Api) -> None:
    made = api.client.post("/api/v1/tenants/", json={"tenant_name": "second-console"})
    assert made.status_code == 201, made.text
    second = made.json()["tenant_id"]
    me = api.client.get("/api/v1/users/whoami").json()
    user = {"username": "two-tenants", "password": "pw-two-tenants-1", "tenant_id": me["tenant_id"]}
    assert api.client.post("/api/v1/users/", json=user).status_code == 201
    bound = api.client.post(
        "/api/v1/tenants/user-roles",
        json={"tenant_id": second, "role_id": "developer", "username": user["username"]},
        headers={"Tenant-Id": second},
    )
    assert bound.status_code == 201, bound.text
    page = console.page
    page.goto(console.url + "/")
    page.get_by_label("Username").fill(user["username"])
    page.get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Flows").wait_for()
    picker = page.get_by_label("tenant to act in")
    assert "second-console" in picker.inner_text()
    picker.select_option(label="second-console")
    page.get_by_text("Acting in second-console").wait_for()
    page.get_by_role("navigation", name="main").get_by_role("link", name="Runs").click()
    page.get_by_text("No runs.").wait_for()
    assert page.evaluate("localStorage.getItem('flowdeck.tenant')") == second
    console.shot("tenant-member-picker")
