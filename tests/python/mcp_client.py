"""The Python MCP SDK's client against the real `release-gate serve`: every tool, a prompt, a resource, errors.

Usage: mcp_client.py SERVER_BINARY ROOT. Exits non-zero, saying why, when the server does not behave.
"""

import asyncio
import json
import sys

from mcp import Client, MCPError, StdioServerParameters

NOW = "2026-11-28T12:00:00Z"


async def main(binary: str, root: str) -> None:
    params = StdioServerParameters(command=binary, args=["serve", "--root", root])
    async with Client(params, read_timeout_seconds=30) as client:
        assert client.server_info.name == "release-gate", client.server_info
        tools = await client.list_tools()
        names = sorted(tool.name for tool in tools.tools)
        assert names == ["audit_decision", "render_decision", "validate_decision"], names

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

        try:
            await client.call_tool("validate_decision", {"path": "../outside.md"})
        except MCPError as error:
            assert "outside the repository root" in str(error), error
        else:
            raise AssertionError("a path outside the root was accepted")

        prompt = await client.get_prompt("rollback_rehearsal_plan", {"service": "billing-api"})
        assert "billing-api" in prompt.messages[0].content.text, prompt

        rules = await client.read_resource("release-gate://rules")
        assert any(rule["code"] == "panel-missing" for rule in json.loads(rules.contents[0].text)), rules

    print("python mcp client: ok")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
