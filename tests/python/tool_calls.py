"""The Python MCP SDK's client making a list of calls on the real `release-gate serve`, over stdio or HTTP.

Usage: tool_calls.py CASE.json. CASE.json is an object with:
  transport  "stdio" (then `command`, `args`, `env`) or "http" (then `url`, and `token` or null)
  calls      a list of calls, each {"tool": NAME, "arguments": {...}} or {"resource": URI}
  person     optional: the person behind the client, {"answer": "accept" or "decline", "name": NAME};
             without it the client declares no elicitation (it cannot ask anyone)

Prints one JSON list, one result per call: for a tool, `is_error`, `text`, `structured` and `asked` (the
questions the server put to the person during the call); for a resource, `error` (the JSON-RPC error's
message, or null) and `text`. Every call is bounded in time; a session that
cannot be held exits non-zero, saying why.
"""

import asyncio
import json
import sys

from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
import mcp_types as types

CALL_SECONDS = 30


def transport(case: dict):
    if case["transport"] == "stdio":
        return StdioServerParameters(command=case["command"], args=case["args"], env=case.get("env"))
    headers = {"Authorization": f"Bearer {case['token']}"} if case.get("token") else None
    return streamable_http_client(case["url"], http_client=create_mcp_http_client(headers=headers))


async def call(client: Client, spec: dict, asked: list) -> dict:
    if "resource" in spec:
        try:
            result = await client.read_resource(spec["resource"])
        except MCPError as error:
            return {"error": str(error), "text": ""}
        return {"error": None, "text": "\n".join(getattr(item, "text", "") or "" for item in result.contents)}
    asked.clear()
    result = await client.call_tool(spec["tool"], spec.get("arguments", {}))
    return {
        "asked": list(asked),
        "is_error": bool(result.is_error),
        "text": "\n".join(item.text for item in result.content if getattr(item, "text", None)),
        "structured": result.structured_content,
    }


async def main(case_file: str) -> None:
    with open(case_file, encoding="utf-8") as handle:
        case = json.load(handle)
    results = []
    asked = []
    person = case.get("person")

    async def elicit(_context, params):
        asked.append(params.message)
        if person["answer"] == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True, "name": person["name"]})
        return types.ElicitResult(action="decline")

    callback = elicit if person else None
    async with Client(
        transport(case), mode="legacy", read_timeout_seconds=CALL_SECONDS, elicitation_callback=callback
    ) as client:
        for spec in case["calls"]:
            results.append(await asyncio.wait_for(call(client, spec, asked), CALL_SECONDS))
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
