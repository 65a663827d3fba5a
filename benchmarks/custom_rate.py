"""Sustained POST /notifications/custom into SQLite, end to end (accepted and delivered to the inbox).

Run: .venv/bin/python -m benchmarks.custom_rate   (needs wrk)
Goal (issue 2): >= 2,000 notifications/s on 2 cores. Floor: the same POSTs against a bare uvicorn endpoint.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.harness import BareServer, update_readme, wrk
from tests.live_server import LiveServer

# Unique titles: identical content within a minute would be deduplicated.
POST_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local body = '{"content":{"title":"bench ' .. n .. '","message":"sustained rate"}}'
  return wrk.format(nil, nil, nil, body)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp), args=["--dangerous-disable-rate-limits"]).start()
        try:
            headers = server.headers(server.member_token)
            url = server.url + "/api/v2/notifications/custom"
            inbox = server.url + "/api/v2/notifications/inbox"
            started = time.monotonic()
            ours = wrk(url, connections=args.connections, seconds=args.seconds, headers=headers, script=POST_SCRIPT)
            accepted = ours.requests - ours.non_2xx
            # Wait until every accepted notification is in the inbox: the end-to-end rate.
            while True:
                unread = httpx.get(inbox, headers=headers).json()["unread_count"]
                if unread >= accepted:
                    break
                time.sleep(0.05)
            delivered_rate = unread / (time.monotonic() - started)
        finally:
            server.stop()
    with BareServer(b"") as bare:
        floor = wrk(bare.url, connections=args.connections, seconds=args.seconds, script=POST_SCRIPT)
    lines = [
        f"Sustained POST /notifications/custom into SQLite, {args.connections} connections, {args.seconds:.0f} s:",
        "",
        "| | POSTs/s accepted (204) | delivered to the inbox/s | p50 | p99 |",
        "|---|---|---|---|---|",
        f"| inbox-server | {ours.rps:,.0f} | {delivered_rate:,.0f} | {ours.p50:.2f} ms | {ours.p99:.2f} ms |",
        f"| bare uvicorn, same POSTs (floor) | {floor.rps:,.0f} | - | {floor.p50:.2f} ms | {floor.p99:.2f} ms |",
        "",
        f"Rejected: {ours.non_2xx}. Goal >= 2,000/s.",
        "Command: `.venv/bin/python -m benchmarks.custom_rate`",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_readme:
        update_readme("custom_rate", text)


if __name__ == "__main__":
    main()
