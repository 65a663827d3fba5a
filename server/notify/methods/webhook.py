"""The webhook dispatch method: a JSON POST shaped like Coder's `dispatch.WebhookPayload`."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from server.config import WebhookConfig
from server.notify.methods.base import DispatchError, RenderedMessage
from server.wire import encode_json

log = logging.getLogger(__name__)

WEBHOOK_VERSION = "1.1"  # dispatch.WebhookPayload version (adds title_markdown / body_markdown)
USER_AGENT = "inbox-server"
_ERROR_BODY_PREVIEW = 512  # Coder logs the first 512 bytes of a failed response


def _sorted_maps(value: Any) -> Any:
    # Go's encoding/json writes map keys in sorted order, at every depth.
    if isinstance(value, dict):
        return {k: _sorted_maps(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_maps(v) for v in value]
    return value


def webhook_body(msg: RenderedMessage) -> bytes:
    """The request body Coder's WebhookHandler sends for this message."""
    payload = msg.payload()
    payload["data"] = _sorted_maps(payload["data"])
    return encode_json(
        {
            "_version": WEBHOOK_VERSION,
            "msg_id": str(msg.message_id),
            "payload": payload,
            "title": msg.title_plaintext,
            "title_markdown": msg.title,
            "body": msg.body_plaintext,
            "body_markdown": msg.body,
        }
    )


def _temporary_status(status: int) -> bool:
    # Server trouble, throttling and request timeouts may pass; any other 4xx will fail the same way again.
    return status >= 500 or status in (408, 425, 429)


class WebhookMethod:
    """Posts each message to the configured endpoint through one shared connection pool."""

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Created on first use so it binds to the running event loop.
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.config.timeout),
                follow_redirects=True,  # as Go's http.Client does
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    async def dispatch(self, msg: RenderedMessage) -> None:
        """POST the message; 2xx is delivered, anything else raises DispatchError."""
        if not self.config.url:
            raise DispatchError("webhook endpoint not defined", temporary=False)
        headers = {"Content-Type": "application/json", "X-Message-Id": str(msg.message_id)}
        try:
            # Streamed, so a huge error page from a misbehaving receiver is never held in memory.
            async with self._http().stream(
                "POST", self.config.url, content=webhook_body(msg), headers=headers
            ) as response:
                status = response.status_code
                if 200 <= status < 300:
                    return
                preview = b""
                async for chunk in response.aiter_bytes():
                    preview += chunk
                    if len(preview) >= _ERROR_BODY_PREVIEW:
                        break
        except httpx.TimeoutException as exc:
            raise DispatchError(f"request timeout: {exc!r}", temporary=True) from exc
        except httpx.HTTPError as exc:
            raise DispatchError(f"request failed: {exc!r}", temporary=True) from exc
        text = preview[:_ERROR_BODY_PREVIEW].decode("utf-8", "replace").strip()
        log.warning("message %s: webhook answered %d: %s", msg.message_id, status, text)
        raise DispatchError(f"non-2xx response ({status})", temporary=_temporary_status(status))

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
