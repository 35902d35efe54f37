"""The Python MCP SDK's client calling `sign_decision` on the real `release-gate serve`, over stdio or HTTP.

Usage: sign_client.py CASES.json. CASES.json is a list of cases, each an object with:
  name       a label for the case
  transport  "stdio" (then `command`, `args`, `env`) or "http" (then `url`, and `token` or null)
  client     "accept" (confirms the form), "decline", or "none" (does not declare elicitation)
  mode       "legacy" (the initialize handshake: the server asks through elicitation) or "2026-07-28"
             (`server/discover`: the server answers with an input-required result the client fulfils)
  id         the decision to sign
  release    the repository's `.release/` folder, compared before and after the call

Prints one JSON list: per case the tool result (`is_error`, `text`, `structured`), every elicitation the
server sent (`message`, `requested_schema`), and which files under `.release/` the call created, changed or
removed. Exits non-zero, saying why, when a session cannot be held.
"""

import asyncio
import hashlib
import json
import os
import sys

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
import mcp_types as types

# Every wait is bounded: one case (connect, call, close) gets this long.
CASE_SECONDS = 30


def files(release: str) -> dict[str, str]:
    """Every file under `release`, relative, with the SHA-256 of its bytes."""
    found = {}
    for folder, _dirs, names in os.walk(release):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, release)] = hashlib.sha256(handle.read()).hexdigest()
    return found


def transport(case: dict):
    if case["transport"] == "stdio":
        return StdioServerParameters(command=case["command"], args=case["args"], env=case["env"])
    headers = {"Authorization": f"Bearer {case['token']}"} if case.get("token") else None
    return streamable_http_client(case["url"], http_client=create_mcp_http_client(headers=headers))


async def run(case: dict) -> dict:
    asked = []

    async def elicit(_context, params):
        asked.append(
            {"message": params.message, "requested_schema": params.model_dump(by_alias=True)["requestedSchema"]}
        )
        if case["client"] == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True, "name": "Priya Shah"})
        return types.ElicitResult(action="decline")

    callback = None if case["client"] == "none" else elicit
    before = files(case["release"])
    async with Client(
        transport(case), mode=case["mode"], read_timeout_seconds=CASE_SECONDS, elicitation_callback=callback
    ) as client:
        result = await client.call_tool("sign_decision", {"id": case["id"]})
    after = files(case["release"])
    return {
        "name": case["name"],
        "is_error": bool(result.is_error),
        "text": "\n".join(item.text for item in result.content if getattr(item, "text", None)),
        "structured": result.structured_content,
        "asked": asked,
        "created": sorted(set(after) - set(before)),
        "changed": sorted(path for path in set(after) & set(before) if after[path] != before[path]),
        "removed": sorted(set(before) - set(after)),
    }


async def main(cases_file: str) -> None:
    with open(cases_file, encoding="utf-8") as handle:
        cases = json.load(handle)
    results = []
    for case in cases:
        try:
            results.append(await asyncio.wait_for(run(case), CASE_SECONDS))
        except Exception as error:  # noqa: BLE001 - say which case failed, and how
            raise SystemExit(f"case {case['name']}: {type(error).__name__}: {error}") from error
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
