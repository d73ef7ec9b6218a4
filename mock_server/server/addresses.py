"""The address the server listens on: whether it is this machine's loopback, and how it is
written in a URL."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, in any case, with or without the root's dot)
    is this machine's loopback."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: never resolved by DNS
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def named(host_header: str) -> str:
    """The name in a ``Host`` header's value, without its port (read as text: a value no URL
    parser takes is a name that is no loopback's)."""
    if host_header.startswith("["):  # an IPv6 address
        return host_header[: host_header.find("]") + 1] or host_header
    name, colon, port = host_header.rpartition(":")
    return name if colon and port.isdigit() and ":" not in name else host_header


def in_url(host: str) -> str:
    """``host`` as a URL writes it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host
