"""The client address behind trusted reverse proxies, as Coder's httpmw.ExtractRealIP finds it.

Forwarding headers are trusted only when configured (`--proxy-trusted-headers`, e.g. X-Forwarded-For, and
`--proxy-trusted-origins`, CIDRs of the proxies) and only on a connection from a trusted origin. By default
nothing is trusted: a client could otherwise rotate X-Forwarded-For to escape its per-IP rate limit.

In a list-valued header (X-Forwarded-For) the client is the rightmost address that is not itself a trusted
proxy (each proxy appends the peer it saw, so whatever a client prepends sits to the left and is ignored);
when every hop is trusted the leftmost is taken. Other headers carry one value, their first field line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

X_FORWARDED_FOR = b"x-forwarded-for"


def split_flag_values(values: Iterable[str]) -> list[str]:
    """Flag values given repeatedly and/or comma-separated (as Coder's string-array flags)."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def parse_origins(origins: Iterable[str]) -> list[IPNetwork]:
    """CIDRs (a bare address is a /32 or /128); a bad one is a ValueError naming it, as Coder's."""
    networks: list[IPNetwork] = []
    for origin in origins:
        try:
            networks.append(ipaddress.ip_network(origin, strict=False))
        except ValueError as exc:
            raise ValueError(f"parse proxy origin {origin!r}: {exc}") from None
    return networks


def _address(text: str) -> IPAddress | None:
    """One address, with an optional port (`1.2.3.4:5`, `[::1]:5`), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class RealIP:
    """Rewrites an ASGI scope's `client` from trusted forwarding headers; a no-op when unconfigured."""

    def __init__(self, headers: Sequence[str], origins: Sequence[IPNetwork]) -> None:
        self.headers = [h.strip().lower().encode("latin-1") for h in headers if h.strip()]
        self.origins = list(origins)

    @property
    def enabled(self) -> bool:
        """Whether any forwarding header can ever be trusted."""
        return bool(self.headers and self.origins)

    def _trusted(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in network for network in self.origins)

    def client_address(self, peer: str, headers: Iterable[tuple[bytes, bytes]]) -> str:
        """The client's address for a connection from `peer` carrying `headers`."""
        if not self.enabled or not self._trusted(_address(peer)):
            return peer
        pairs = list(headers)
        for name in self.headers:
            values = [v.decode("latin-1") for k, v in pairs if k.lower() == name]
            if not values:
                continue
            # X-Forwarded-For field lines are one list (RFC 9110 5.3); others carry a single value.
            value = ",".join(values) if name == X_FORWARDED_FOR else values[0]
            found = self._forwarded(value)
            if found is not None:
                return str(found)
        return peer

    def _forwarded(self, value: str) -> IPAddress | None:
        leftmost: IPAddress | None = None
        for part in reversed(value.split(",")):
            address = _address(part)
            if address is None:
                continue
            leftmost = address
            if not self._trusted(address):
                return address
        return leftmost

    def apply(self, scope: dict[str, Any] | Any) -> None:
        """Replace `scope["client"]` with the forwarded client address when the peer is trusted."""
        client = scope.get("client")
        if not self.enabled or not client:
            return
        address = self.client_address(str(client[0]), scope.get("headers", ()))
        if address != client[0]:
            scope["client"] = (address, client[1])
