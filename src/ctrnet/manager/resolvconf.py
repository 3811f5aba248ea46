"""The sandbox's ``/etc/resolv.conf``: nerdctl's rules as a pure function of the host's file.

Each of ``--dns``, ``--dns-search`` and ``--dns-opt`` replaces only its own part; the rest comes
from the host file with loopback nameservers removed (they do not answer inside a namespace).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from pathlib import Path

from ctrnet._errors import ValidationError

__all__ = [
    "DEFAULT_NAMESERVERS",
    "HOST_RESOLV_CONF",
    "SYSTEMD_RESOLVED_CONF",
    "build_resolv_conf",
    "read_host_resolv_conf",
    "validate_dns_option",
    "validate_search_domain",
]

HOST_RESOLV_CONF = "/etc/resolv.conf"
#: the upstream servers of systemd-resolved, used when the host file only names its stub
SYSTEMD_RESOLVED_CONF = "/run/systemd/resolve/resolv.conf"
_RESOLVED_STUB = "127.0.0.53"
#: used when no usable nameserver is left (docker's and nerdctl's fallback)
DEFAULT_NAMESERVERS = ("8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844")
_OPTION = re.compile(r"^[a-z][a-z0-9-]*(:[0-9]+)?\Z")
_NUMERIC_OPTIONS = ("ndots", "timeout", "attempts")
_DOMAIN = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?\Z")


def validate_dns_option(value: str) -> str:
    """A ``--dns-opt`` value: ``name`` or ``name:number`` (e.g. ``ndots:2``, ``rotate``)."""
    text = value.strip()
    if not _OPTION.match(text):
        raise ValidationError(
            f"invalid --dns-opt {value!r}: use a resolv.conf option such as ndots:2 or rotate",
            option="--dns-opt",
            value=value,
        )
    name = text.partition(":")[0]
    if name in _NUMERIC_OPTIONS and ":" not in text:
        raise ValidationError(
            f"invalid --dns-opt {value!r}: {name} needs a number, e.g. {name}:2",
            option="--dns-opt",
            value=value,
        )
    return text


def validate_search_domain(value: str) -> str:
    """A ``--dns-search`` value: a domain name, or ``.`` for "no search list"."""
    text = value.strip()
    if text != "." and (not _DOMAIN.match(text) or len(text) > 253):
        raise ValidationError(
            f"invalid --dns-search {value!r}: use a domain name such as example.com, or '.'",
            option="--dns-search",
            value=value,
        )
    return text


def read_host_resolv_conf(
    path: str = HOST_RESOLV_CONF, resolved_path: str = SYSTEMD_RESOLVED_CONF
) -> str:
    """The host's resolver file, or systemd-resolved's upstream one when the host file only
    points at the 127.0.0.53 stub. A missing file reads as empty."""
    text = _read(path)
    servers = _nameservers(text)
    if servers == [_RESOLVED_STUB]:
        upstream = _read(resolved_path)
        if upstream:
            return upstream
    return text


def build_resolv_conf(
    host_text: str,
    *,
    servers: Sequence[str] = (),
    search: Sequence[str] = (),
    options: Sequence[str] = (),
    allow_localhost: bool = False,
    ipv6_servers: bool = False,
) -> str:
    """The sandbox's resolv.conf: ``search``, ``nameserver`` lines, ``options``, in that order.

    Parts not given come from ``host_text``: its nameservers (IPv4 only unless ``ipv6_servers``;
    loopback ones dropped unless ``allow_localhost``, with :data:`DEFAULT_NAMESERVERS` when none
    remain), its last ``search`` line and its last ``options`` line.
    """
    if not servers:
        host_servers = _nameservers(host_text)
        if not allow_localhost:
            host_servers = [s for s in host_servers if not _is_loopback(s)]
            if not host_servers:
                host_servers = list(DEFAULT_NAMESERVERS)
        servers = [s for s in host_servers if ipv6_servers or ":" not in s]
    if not search:
        search = _last_line_values(host_text, "search")
    if not options:
        options = _last_line_values(host_text, "options")
    lines: list[str] = []
    if search and list(search) != ["."]:
        lines.append("search " + " ".join(search))
    lines.extend(f"nameserver {s}" for s in servers)
    if options:
        lines.append("options " + " ".join(options))
    return "".join(line + "\n" for line in lines)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except (FileNotFoundError, NotADirectoryError):
        return ""


def _fields(text: str) -> list[list[str]]:
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if line:
            out.append(line.split())
    return out


def _nameservers(text: str) -> list[str]:
    servers = []
    for parts in _fields(text):
        if parts[0] == "nameserver" and len(parts) > 1:
            try:
                servers.append(str(ipaddress.ip_address(parts[1].split("%", 1)[0])))
            except ValueError:
                continue
    return servers


def _last_line_values(text: str, keyword: str) -> list[str]:
    values: list[str] = []
    for parts in _fields(text):
        if parts[0] == keyword:
            values = parts[1:]
    return values


def _is_loopback(server: str) -> bool:
    return ipaddress.ip_address(server).is_loopback
