"""``--add-host host:ip`` entries, with ``host-gateway`` standing for the host's address."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ctrnet._errors import ValidationError

__all__ = [
    "HOST_GATEWAY",
    "ExtraHost",
    "extra_hosts_label",
    "parse_extra_host",
    "parse_extra_hosts",
]

#: the special address that means "the host, as seen from the sandbox"
HOST_GATEWAY = "host-gateway"
_NAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\Z")


@dataclass(frozen=True, kw_only=True)
class ExtraHost:
    """One static ``/etc/hosts`` entry."""

    host: str
    ip: str

    def __str__(self) -> str:
        return f"{self.host}:{self.ip}"


def parse_extra_host(value: str, *, host_gateway_ip: str | None = None) -> ExtraHost:
    """Parse ``host:ip`` (split at the first colon, so ``h:::1`` is IPv6).

    ``host-gateway`` as the IP becomes ``host_gateway_ip``; without one it is refused.
    """
    host, sep, ip_text = value.partition(":")
    host = host.strip()
    ip_text = ip_text.strip()
    if not sep or not host or not ip_text:
        raise _bad(value, f"invalid --add-host {value!r}; use host:ip, e.g. db.local:10.0.0.5")
    if not _NAME.match(host) or len(host) > 253:
        raise _bad(
            value, f"invalid host name {host!r} in --add-host {value!r}; use letters, digits, . - _"
        )
    if ip_text == HOST_GATEWAY:
        if not host_gateway_ip:
            raise _bad(
                value,
                f"unable to derive the IP value for host-gateway in --add-host {value!r}; "
                "set --host-gateway-ip",
            )
        ip_text = host_gateway_ip
    if ip_text.startswith("[") and ip_text.endswith("]"):
        ip_text = ip_text[1:-1]
    try:
        ip = ipaddress.ip_address(ip_text)
    except ValueError:
        raise _bad(
            value, f"invalid IP address {ip_text!r} in --add-host {value!r}; use host:ip"
        ) from None
    return ExtraHost(host=host, ip=str(ip))


def parse_extra_hosts(
    values: Iterable[str], *, host_gateway_ip: str | None = None
) -> tuple[ExtraHost, ...]:
    """Parse every value, dropping exact repeats (first occurrence kept)."""
    seen: dict[ExtraHost, None] = {}
    for value in values:
        seen.setdefault(parse_extra_host(value, host_gateway_ip=host_gateway_ip), None)
    return tuple(seen)


def extra_hosts_label(hosts: Sequence[ExtraHost]) -> str:
    """The ``nerdctl/extraHosts`` value: a JSON list of ``"host:ip"``, or ``null`` when empty."""
    return json.dumps([str(h) for h in hosts] if hosts else None, separators=(",", ":"))


def _bad(value: str, message: str) -> ValidationError:
    return ValidationError(message, option="--add-host", value=value)
