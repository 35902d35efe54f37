"""The Python MCP SDK's client against the real `release-gate serve`: every tool, a prompt, a resource, errors.

Usage: mcp_client.py SERVER_BINARY ROOT GIT_REPO. ROOT holds decision files; GIT_REPO is a git repository
(tagged `v1`, with a change after it) where a decision is drafted and its status read. Exits non-zero, saying
why, when the server does not behave.
"""

import asyncio
import json
import sys

from mcp import Client, MCPError, StdioServerParameters

NOW = "2026-11-28T12:00:00Z"


TOOLS = [
    "audit_decision",
    "check_setup",
    "classify_risk",
    "close_decision",
    "decide",
    "decision_status",
    "declare_risk",
    "draft_decision",
    "list_decisions",
    "note_friction",
    "rebind_decision",
    "record_gate",
    "render_decision",
    "run_code_gates",
    "run_drill",
    "run_rehearsal",
    "run_status",
    "set_communication",
    "set_decision_field",
    "set_operations",
    "sign_decision",
    "start_watch",
    "validate_decision",
    "verify_decision",
]


async def main(binary: str, root: str, git_repo: str) -> None:
    params = StdioServerParameters(command=binary, args=["serve", "--root", root])
    async with Client(params, read_timeout_seconds=30) as client:
        assert client.server_info.name == "release-gate", client.server_info
        tools = await client.list_tools()
        names = sorted(tool.name for tool in tools.tools)
        assert names == TOOLS, names

        ready = await client.call_tool("validate_decision", {"path": "docs/release.md", "now": NOW})
        assert not ready.is_error, ready
        assert ready.structured_content["verdict"] == "pass", ready.structured_content

        draft = await client.call_tool("validate_decision", {"path": "docs/draft.md", "now": NOW})
        assert not draft.is_error, draft
        assert draft.structured_content["verdict"] == "fail", draft.structured_content

        audit = await client.call_tool("audit_decision", {"path": "docs/release.md"})
        assert audit.structured_content["ready"] is True, audit.structured_content

        rendered = await client.call_tool("render_decision", {"path": "docs/release.md", "to": "json"})
        assert json.loads(rendered.structured_content["text"])["version"] == 1, rendered.structured_content

        missing = await client.call_tool("validate_decision", {"path": "docs/missing.md"})
        assert missing.is_error, missing

        # Arguments the tool refuses come back as a tool result the model can read and correct from.
        outside = await client.call_tool("validate_decision", {"path": "../outside.md"})
        assert outside.is_error and "outside the repository root" in outside.content[0].text, outside
        assert "Correct the arguments" in outside.content[0].text, outside
        wrong_type = await client.call_tool("validate_decision", {"content": 5})
        assert wrong_type.is_error and "invalid type" in wrong_type.content[0].text, wrong_type

        try:
            await client.call_tool("no_such_tool", {})
        except MCPError as error:
            assert "no_such_tool" in str(error) or "not found" in str(error), error
        else:
            raise AssertionError("an unknown tool was answered with a result")

        prompt = await client.get_prompt("rollback_rehearsal_plan", {"service": "billing-api"})
        assert "billing-api" in prompt.messages[0].content.text, prompt

        rules = await client.read_resource("release-gate://rules")
        assert any(rule["code"] == "panel-missing" for rule in json.loads(rules.contents[0].text)), rules

    params = StdioServerParameters(command=binary, args=["serve", "--root", git_repo])
    async with Client(params, read_timeout_seconds=30) as client:
        drafted = await client.call_tool(
            "draft_decision",
            {"scope": "docs site", "risk_class": "low", "actor": "python client for Dana Lee"},
        )
        assert not drafted.is_error, drafted
        decision_id = drafted.structured_content["id"]
        assert drafted.structured_content["file"] == f".release/decisions/{decision_id}.json", drafted

        status = await client.call_tool("decision_status", {"id": decision_id})
        assert not status.is_error, status
        assert status.structured_content["id"] == decision_id, status.structured_content
        assert status.structured_content["risk_class"] == "low", status.structured_content
        assert status.structured_content["report"]["verdict"] == "fail", status.structured_content
        assert status.structured_content["next"], status.structured_content

        unknown = await client.call_tool("decision_status", {"id": "no-such-decision"})
        assert unknown.is_error, unknown

        # Not signed yet, and no signing key configured: both say what to do.
        unsigned = await client.call_tool("verify_decision", {"id": decision_id})
        assert not unsigned.is_error, unsigned
        failures = unsigned.structured_content["failures"]
        assert [f["code"] for f in failures] == ["not-signed"] and "is not signed" in failures[0]["message"], unsigned
        keyless = await client.call_tool("sign_decision", {"id": decision_id})
        assert keyless.is_error and "RELEASE_GATE_SIGNING_KEY" in keyless.content[0].text, keyless

        unsafe_id = await client.call_tool("decision_status", {"id": "../escape"})
        assert unsafe_id.is_error and "not a valid decision id" in unsafe_id.content[0].text, unsafe_id

    print("python mcp client: ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
