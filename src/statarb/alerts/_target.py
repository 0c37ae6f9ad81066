"""Where a webhook may be delivered: public addresses only, unless explicitly allowed.

A rule's webhook URL is chosen by whoever holds the API token, but the request leaves from the
engine's host, inside its network. Unchecked, a webhook reaches the cloud metadata service
(169.254.169.254), loopback services and the private network (server-side request forgery).
:func:`resolve_target` resolves the host name once and refuses the delivery unless EVERY address
it resolves to is public (or inside a network of the allow-list); the caller then connects to the
address checked here, so a name that re-resolves elsewhere later (DNS rebinding) cannot move the
request. Decimal, octal and hexadecimal IPv4 forms, IPv4-mapped IPv6 and names such as
``localhost`` are caught because the check is made on the resolved addresses.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefusedError(Exception):
    """The webhook URL is not deliverable under the policy (the message is safe to show)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked destination: connect to ``ip`` but speak to ``host`` (Host header, TLS SNI)."""

    scheme: str
    host: str
    ip: str
    port: int
    path: str

    @property
    def pinned_url(self) -> str:
        """The URL with the host replaced by the checked address."""
        shown = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{self.scheme}://{shown}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        """``Host`` as the receiver expects it (the name, with the port when not the default)."""
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


def parse_networks(items: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDR strings (``10.0.0.0/8``, ``127.0.0.1``) as networks; ValueError names a bad one."""
    nets = []
    for item in items:
        try:
            nets.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"webhook_allow: {item!r} is not a network such as 10.0.0.0/8"
            ) from None
    return tuple(nets)


def address_allowed(ip: IPAddress, allow: Iterable[IPNetwork] = ()) -> bool:
    """Whether a webhook may connect to ``ip``: a public unicast address or an allowed one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip.version == net.version and ip in net for net in allow):
        return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


async def resolve_target(url: str, allow: Iterable[IPNetwork] = ()) -> Target:
    """Check ``url`` and resolve its host to one address that may be reached.

    Raises
    ------
    TargetRefusedError
        Not http(s), no host, a name that does not resolve, or any resolved address that is
        private, loopback, link-local, multicast or reserved and not in ``allow``.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefusedError("only http and https webhooks are delivered")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise TargetRefusedError("the webhook URL has an invalid port") from None
    if not host:
        raise TargetRefusedError("the webhook URL has no host")
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError):
        raise TargetRefusedError("the webhook host name does not resolve") from None
    addrs = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    allow = tuple(allow)
    if not addrs or not all(address_allowed(a, allow) for a in addrs):
        raise TargetRefusedError(
            "the webhook host is not a public address (private, loopback, link-local, multicast "
            "or reserved); allow its network with STATARB_WEBHOOK_ALLOW if it is meant"
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, str(addrs[0]), port, path)


__all__ = [
    "Target",
    "TargetRefusedError",
    "address_allowed",
    "parse_networks",
    "resolve_target",
]
