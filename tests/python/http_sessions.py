"""Opens many MCP sessions on a running `release-gate serve --http` with plain HTTP, then ends them.

Usage: http_sessions.py URL COUNT. Sends COUNT `initialize` requests (each a new session) on one kept-alive
connection, reconnecting whenever the server closes it, then ends every session it got with HTTP DELETE.
Prints one JSON object: `admitted`, `refused` (503 answers), `retry_after` (the first refusal's Retry-After
header), `other` (any other status), `deleted` (2xx answers to DELETE). Every request is bounded in time.
"""

import http.client
import json
import sys
import urllib.parse

TIMEOUT_SECONDS = 10
INITIALIZE = json.dumps({
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "load", "version": "1"}},
})
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def main() -> None:
    url = urllib.parse.urlparse(sys.argv[1])
    count = int(sys.argv[2])
    connect = lambda: http.client.HTTPConnection(url.hostname, url.port, timeout=TIMEOUT_SECONDS)
    connection = connect()
    sessions, refused, retry_after, other = [], 0, None, []
    for _ in range(count):
        connection.request("POST", url.path, INITIALIZE, HEADERS)
        response = connection.getresponse()
        response.read()
        if response.status == 200:
            sessions.append(response.getheader("mcp-session-id"))
        elif response.status == 503:
            refused += 1
            retry_after = retry_after or response.getheader("retry-after")
        else:
            other.append(response.status)
        if response.will_close:
            connection.close()
            connection = connect()
    deleted = 0
    for session in sessions:
        connection.request("DELETE", url.path, headers={"mcp-session-id": session})
        response = connection.getresponse()
        response.read()
        deleted += 200 <= response.status < 300
        if response.will_close:
            connection.close()
            connection = connect()
    print(json.dumps({"admitted": len(sessions), "refused": refused, "retry_after": retry_after,
                      "other": other, "deleted": deleted}))


if __name__ == "__main__":
    main()
