"""`fabula mcp` as an assistant meets it: the SDK's own client starts the real command as a
subprocess and talks to it over stdio — lists the tools, reads the column reference, and calls
every tool, including the refusals that keep it inside its root."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

TOOLS = {"scenarios", "check", "plan", "preview", "generate", "validate"}

BAD_SPEC = """\
name: broken
seed: 1
tables:
  customers:
    rows: 100
    columns:
      customer_id: {kind: id, format: "C-{:05d}"}
      arr: {kind: lognormal, mean: 3, sigmma: 1}
  orders:
    rows: 100
    columns:
      customer_id: {kind: reference, to: customer.customer_id}
"""


def session_with(root: Path, body, *extra_args: str):
    """Start `fabula mcp --root ROOT` and run `body(session)` against it; return what it returns."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "fabula", "mcp", "--root", str(root), *extra_args])

    async def main():
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await body(session)

    return anyio.run(main)


async def call(session, tool: str, **arguments) -> dict:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    data = result.structured_content
    assert data is not None, f"{tool} returned no structured content"
    assert json.loads(result.content[0].text) == data  # the text is the same answer, for clients without structure
    return data


def test_lists_the_tools_and_the_column_reference(tmp_path):
    async def body(session):
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        resources = (await session.list_resources()).resources
        reference = await session.read_resource(str(resources[0].uri))
        return tools, resources, reference

    tools, resources, reference = session_with(tmp_path, body)
    assert TOOLS <= set(tools)
    assert all(tools[name].description for name in TOOLS)
    generate = tools["generate"].input_schema
    assert set(generate["required"]) == {"spec", "out"} and "ctx" not in generate["properties"]
    assert all(tools[name].input_schema["properties"]["spec"]["description"] for name in ("check", "plan", "preview"))
    assert [str(resource.uri) for resource in resources] == ["fabula://reference/columns"]
    text = reference.contents[0].text
    assert "### `lognormal`" in text and "`sigma` (required)" in text and "### `reference`" in text


def test_check_returns_a_broken_specs_issues_as_data(tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "broken.yaml").write_text(BAD_SPEC)

    async def body(session):
        return (await call(session, "check", spec=BAD_SPEC),
                await call(session, "check", spec="specs/broken.yaml"),
                await call(session, "check", spec="saas_support"))

    from_text, from_file, builtin = session_with(tmp_path, body)
    for answer in (from_text, from_file):
        assert answer["ok"] is False
        by_path = {issue["path"]: issue for issue in answer["issues"]}
        assert by_path["tables.customers.columns.arr.sigmma"]["hint"] == "did you mean `sigma`?"
        assert by_path["tables.customers.columns.arr.sigmma"]["line"] == 8
        assert by_path["tables.orders.columns.customer_id.to"]["code"] == "unknown-table"
        assert "customers" in by_path["tables.orders.columns.customer_id.to"]["hint"]
    assert builtin["ok"] is True and builtin["issues"] == [] and builtin["dataset"] == "saas_support"


def test_scenarios_plan_and_preview_of_a_builtin(tmp_path):
    async def body(session):
        return (await call(session, "scenarios"), await call(session, "scenarios", name="retail"),
                await call(session, "plan", spec="saas_support", scale=0.1),
                await call(session, "preview", spec="saas_support", rows=3, tables=["tickets"]),
                await call(session, "preview", spec="saas_support", tables=["nope"]))

    listed, retail, plan, preview, unknown = session_with(tmp_path, body)
    assert {"retail", "saas_support"} <= {entry["name"] for entry in listed["scenarios"]}
    assert retail["yaml"].startswith("# A retail dataset")
    assert plan["ok"] and "event auth_incident  2024-10-15 → 2024-10-25" in plan["text"]
    data = plan["plan"]
    assert data["dataset"] == "saas_support" and data["scale"] == 0.1
    assert data["events"]["auth_incident"]["volume"] == {"tickets": 3.0}
    assert "tickets.category" in data["events"]["auth_incident"]["changes"]
    tables = {table["name"]: table for table in data["tables"]}
    assert tables["customers"]["rows"] == 250 and tables["tickets"]["sized_by"] == {"timeline": "support"}
    assert {"name": "tier", "kind": "categorical"}.items() <= next(
        column for column in tables["customers"]["columns"] if column["name"] == "tier").items()
    assert list(preview["tables"]) == ["tickets"]
    rows = preview["tables"]["tickets"]["rows"]
    assert len(rows) == 3 and rows[0]["ticket_id"] == "TKT-000000"
    assert rows[0]["created_at"].startswith("2024-01-01T")  # timestamps as ISO text
    assert unknown == {"ok": False, "error": "no table named 'nope'", "hint": unknown["hint"], "kind": "argument"}


def test_generate_then_validate_inside_the_root_with_progress(tmp_path):
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done, total, message):
        progress.append((done, total))

    async def body(session):
        result = await session.call_tool("generate", {"spec": "saas_support", "out": "out/saas", "scale": 0.1},
                                         progress_callback=on_progress)
        again = await call(session, "generate", spec="saas_support", out="out/saas", scale=0.1)
        return result.structured_content, again, await call(session, "validate", out="out/saas")

    generated, again, validated = session_with(tmp_path, body)
    out = tmp_path / "out" / "saas"
    assert generated["ok"] and Path(generated["out"]) == out.resolve()
    assert (out / "manifest.json").is_file() and (out / "report.html").is_file()
    total = sum(table["rows"] for table in generated["tables"].values())
    assert generated["tables"]["customers"]["rows"] == 250
    assert progress and progress[-1] == (total, total)
    assert generated["validation"]["verdict"] in ("pass", "warn")  # small tables may warn, never fail
    story = [check["name"] for check in generated["validation"]["checks"] if check["family"] == "story"]
    assert any("volume during auth_incident" in name for name in story)
    assert again["ok"] is False and again["kind"] == "output"  # mode defaults to error: nothing replaced
    assert validated["ok"] and validated["verdict"] == generated["validation"]["verdict"]
    assert validated["counts"] == generated["validation"]["counts"]


def test_writes_and_reads_nothing_outside_the_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (outside / "secret.yaml").write_text("name: secret\ntables: {}\n")

    async def body(session):
        answers = {}
        for label, out in (("parent", "../outside/data"), ("absolute", str(outside / "data")),
                           ("symlink", "escape/data"), ("root", "."), ("volume", "/Volumes/main/default/raw/x"),
                           ("dbfs", "dbfs:/tmp/x")):
            answers[label] = await call(session, "generate", spec="retail", out=out, scale=0.01)
        answers["read"] = await call(session, "check", spec=str(outside / "secret.yaml"))
        answers["too big"] = await call(session, "generate", spec="retail", out="big", scale=10)
        return answers

    answers = session_with(root, body, "--max-rows", "1000000")
    for label in ("parent", "absolute", "symlink", "read"):
        assert answers[label]["ok"] is False and "outside the folder" in answers[label]["error"], label
    assert "root folder itself" in answers["root"]["error"]
    for label in ("volume", "dbfs"):
        assert "Databricks" in answers[label]["error"] and answers[label]["hint"]
    assert "more than this server writes (1,000,000)" in answers["too big"]["error"]
    assert list(outside.iterdir()) == [outside / "secret.yaml"]
    assert sorted(path.name for path in root.iterdir()) == ["escape"]


@pytest.mark.parametrize("scale", [0, -1])
def test_bad_arguments_come_back_as_data(tmp_path, scale):
    async def body(session):
        return await call(session, "plan", spec="retail", scale=scale)

    answer = session_with(tmp_path, body)
    assert answer["ok"] is False and "scale must be above 0" in answer["error"]
