"""The real client address: X-Forwarded-For is believed only when a trusted proxy sent it."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(cidrs: Sequence[str]) -> tuple[Network, ...]:
    """Parsed settings.trusted_proxies."""
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def real_client(peer: str, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """The address a request came from, seen through the trusted proxies in front of us.

    Each proxy appends the address it received from, so the list is read from the right: the
    first address that is not a trusted proxy is the client. Anything left of it was written
    by the client and proves nothing. A peer that is not a trusted proxy is the client itself.
    """
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for value in forwarded for h in value.split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a garbled hop: stop at the last proxy that is known to be ours
        client = hop
        if not _trusted(hop, trusted):
            break
    return client


def rewrite(scope: Scope, trusted: Sequence[Network]) -> None:
    """Put the real client address into scope["client"] (logs, audit and rate limits read it)."""
    client = scope.get("client")
    if not trusted or not client:
        return
    forwarded = [
        v.decode("latin-1") for k, v in scope.get("headers") or [] if k == b"x-forwarded-for"
    ]
    if forwarded:
        scope["client"] = (real_client(client[0], forwarded, trusted), client[1])
