"""Published ports: docker's ``-p`` syntax, automatic host ports, and the label encodings.

``parse_port`` turns one ``-p`` value into a :class:`PortSpec` (host port possibly automatic);
``resolve_ports`` turns specs into concrete :class:`PortMapping` values, skipping ports that are
in use on the host or already forwarded to another sandbox.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctrnet._errors import ValidationError

__all__ = [
    "DEFAULT_PORT_RANGE",
    "PROTOCOLS",
    "PortMapping",
    "PortSpec",
    "ephemeral_port_range",
    "parse_port",
    "parse_ports_label",
    "ports_in_use",
    "ports_label",
    "resolve_ports",
]

PROTOCOLS = ("tcp", "udp", "sctp")
#: where automatic host ports come from when the kernel's range cannot be read (nerdctl's)
DEFAULT_PORT_RANGE = (49153, 60999)
_UNSPECIFIED = ("0.0.0.0", "::")


@dataclass(frozen=True, kw_only=True)
class PortMapping:
    """One forwarded port: ``host_ip:host_port`` on the host to ``container_port`` inside."""

    host_port: int
    container_port: int
    protocol: str = "tcp"
    host_ip: str = "0.0.0.0"

    def to_cni(self) -> dict[str, Any]:
        """The ``runtimeConfig.portMappings`` entry (CNI's camelCase keys)."""
        return {
            "hostPort": self.host_port,
            "containerPort": self.container_port,
            "protocol": self.protocol,
            "hostIP": self.host_ip,
        }

    def to_label(self) -> dict[str, Any]:
        """The ``nerdctl/ports`` entry (go-cni's Go field names)."""
        return {
            "HostPort": self.host_port,
            "ContainerPort": self.container_port,
            "Protocol": self.protocol,
            "HostIP": self.host_ip,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PortMapping:
        """Read either encoding (CNI camelCase or Go field names; keys match case-insensitively)."""
        lower = {str(k).lower(): v for k, v in data.items()}
        return cls(
            host_port=int(lower["hostport"]),
            container_port=int(lower["containerport"]),
            protocol=str(lower.get("protocol") or "tcp"),
            host_ip=str(lower.get("hostip") or "0.0.0.0"),
        )

    def __str__(self) -> str:
        host = f"[{self.host_ip}]" if ":" in self.host_ip else self.host_ip
        return f"{self.container_port}/{self.protocol} -> {host}:{self.host_port}"


@dataclass(frozen=True, kw_only=True)
class PortSpec:
    """One parsed ``-p`` value; ``host_start`` is None when the host port is automatic."""

    raw: str
    container_start: int
    container_end: int
    host_start: int | None = None
    host_end: int | None = None
    protocol: str = "tcp"
    host_ip: str = "0.0.0.0"

    @property
    def automatic(self) -> bool:
        """Whether ctrnet picks the host port(s)."""
        return self.host_start is None

    @property
    def count(self) -> int:
        """How many container ports the spec publishes."""
        return self.container_end - self.container_start + 1


def parse_port(value: str) -> PortSpec:
    """Parse ``[ip:][hostPort[-end]:]containerPort[-end][/proto]`` (IPv6 host IPs in brackets).

    A single container port with a host range means "the first free port of that range"; otherwise
    the two ranges must have the same length.
    """
    text = value.strip()
    if not text:
        raise _bad(value, "empty port specification; use e.g. 8080:80 or 80/udp")
    body, proto = text, "tcp"
    if "/" in text:
        body, _, proto = text.partition("/")
        if "/" in proto:
            raise _bad(value, f"failed to parse {value!r}, unexpected slashes")
        proto = proto.lower()
        if proto not in PROTOCOLS:
            raise _bad(value, f"invalid protocol {proto!r} in {value!r}; use tcp, udp or sctp")
    host_ip, rest = _split_host_ip(value, body)
    parts = rest.split(":")
    if len(parts) > 2:
        raise _bad(
            value,
            f"invalid port specification {value!r}; IPv6 host addresses go in brackets, "
            "e.g. [::1]:8080:80",
        )
    container_text = parts[-1]
    host_text = parts[0] if len(parts) == 2 else ""
    if not container_text:
        raise _bad(value, f"no container port specified in {value!r}")
    c_start, c_end = _parse_range(value, container_text, "container")
    h_start: int | None = None
    h_end: int | None = None
    if host_text:
        h_start, h_end = _parse_range(value, host_text, "host")
        c_len, h_len = c_end - c_start, h_end - h_start
        if c_len != 0 and c_len != h_len:
            raise _bad(
                value,
                f"invalid ranges specified for container and host ports: {container_text} and "
                f"{host_text}; both ranges must have the same length",
            )
    return PortSpec(
        raw=value,
        container_start=c_start,
        container_end=c_end,
        host_start=h_start,
        host_end=h_end,
        protocol=proto,
        host_ip=host_ip,
    )


def _split_host_ip(value: str, body: str) -> tuple[str, str]:
    """Split ``ip:rest`` off the front of ``body``; the IP defaults to ``0.0.0.0``."""
    if body.startswith("["):
        end = body.find("]")
        if end < 0 or body[end + 1 : end + 2] != ":":
            raise _bad(
                value, f"invalid host address in {value!r}; write it as [ipv6]:host:container"
            )
        ip_text, rest = body[1:end], body[end + 2 :]
        return _parse_ip(value, ip_text, want_v6=True), rest
    if body.count(":") < 2:
        return "0.0.0.0", body
    ip_text, _, rest = body.partition(":")
    if not ip_text:
        raise _bad(
            value,
            f"empty host address in {value!r}; IPv6 host addresses go in brackets, e.g. [::1]:8080:80",
        )
    return _parse_ip(value, ip_text, want_v6=False), rest


def _parse_ip(value: str, text: str, *, want_v6: bool) -> str:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise _bad(value, f"invalid ip address {text!r} in {value!r}") from None
    if want_v6 and addr.version != 6:
        raise _bad(value, f"{text!r} in brackets must be an IPv6 address")
    return str(addr)


def _parse_range(value: str, text: str, side: str) -> tuple[int, int]:
    start_text, dash, end_text = text.partition("-")
    start = _parse_number(value, start_text, side)
    end = _parse_number(value, end_text, side) if dash else start
    if end < start:
        raise _bad(value, f"invalid {side} port range {text!r} in {value!r}: end is before start")
    return start, end


def _parse_number(value: str, text: str, side: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise _bad(value, f"invalid {side} port {text!r} in {value!r}; use a number 1-65535")
    number = int(text)
    if not 1 <= number <= 65535:
        raise _bad(value, f"invalid {side} port {number} in {value!r}; use a number 1-65535")
    return number


def _bad(value: str, message: str) -> ValidationError:
    return ValidationError(message, option="--publish", value=value)


# --- automatic host ports -------------------------------------------------------------------------

Used = Collection[tuple[str, str, int]]


def resolve_ports(
    specs: Iterable[PortSpec],
    *,
    in_use: Used = frozenset(),
    forwarded: Collection[tuple[str, int]] = frozenset(),
    port_range: tuple[int, int] = DEFAULT_PORT_RANGE,
) -> list[PortMapping]:
    """Concrete mappings for ``specs``, one per container port.

    ``in_use`` holds ``(protocol, ip, port)`` of sockets bound on the host (see
    :func:`ports_in_use`), ``forwarded`` ``(protocol, port)`` pairs already forwarded to other
    sandboxes. Automatic specs get the lowest run of consecutive free ports in ``port_range``;
    a host range for one container port yields its first free port. An explicit host port that
    is taken is refused, naming the spec.
    """
    taken: set[tuple[str, int]] = set(forwarded)
    result: list[PortMapping] = []
    for spec in specs:
        busy = _busy_checker(spec, in_use, taken)
        if spec.host_start is None:
            first = _find_run(spec, port_range, busy)
            hosts = list(range(first, first + spec.count))
        elif spec.count == 1 and spec.host_end != spec.host_start:
            assert spec.host_end is not None
            free = [p for p in range(spec.host_start, spec.host_end + 1) if not busy(p)]
            if not free:
                raise _bad(spec.raw, f"every host port of {spec.raw!r} is already allocated")
            hosts = [free[0]]
        else:
            hosts = list(range(spec.host_start, spec.host_start + spec.count))
            for port in hosts:
                if busy(port):
                    raise _bad(
                        spec.raw,
                        f"bind for {spec.host_ip}:{port}/{spec.protocol} failed: port is already "
                        f"allocated (publishing {spec.raw!r}); choose another host port",
                    )
        for offset, host_port in enumerate(hosts):
            taken.add((spec.protocol, host_port))
            result.append(
                PortMapping(
                    host_port=host_port,
                    container_port=spec.container_start + offset,
                    protocol=spec.protocol,
                    host_ip=spec.host_ip,
                )
            )
    return result


def _busy_checker(
    spec: PortSpec, in_use: Used, taken: set[tuple[str, int]]
) -> Callable[[int], bool]:
    wildcard = spec.host_ip in _UNSPECIFIED
    bound = {
        port
        for proto, ip, port in in_use
        if proto == spec.protocol and (wildcard or ip in _UNSPECIFIED or ip == spec.host_ip)
    }

    def busy(port: int) -> bool:
        return port in bound or (spec.protocol, port) in taken

    return busy


def _find_run(spec: PortSpec, port_range: tuple[int, int], busy: Callable[[int], bool]) -> int:
    low, high = port_range
    if spec.count > high - low + 1:
        raise _bad(spec.raw, f"can not allocate {spec.count} ports for {spec.raw!r}")
    start = low
    while start + spec.count - 1 <= high:
        blocker = next((p for p in range(start, start + spec.count) if busy(p)), None)
        if blocker is None:
            return start
        start = blocker + 1
    raise _bad(
        spec.raw,
        f"there are not {spec.count} consecutive free ports in {low}-{high} for {spec.raw!r}; "
        "give the host port explicitly",
    )


# --- host readers ---------------------------------------------------------------------------------

_TCP_LISTEN = "0A"


def ports_in_use(proc_net: str = "/proc/net") -> set[tuple[str, str, int]]:
    """``(protocol, ip, port)`` of listening TCP and bound UDP sockets, from ``/proc/net``."""
    used: set[tuple[str, str, int]] = set()
    for name, proto in (("tcp", "tcp"), ("tcp6", "tcp"), ("udp", "udp"), ("udp6", "udp")):
        try:
            text = Path(proc_net, name).read_text()
        except OSError:
            continue
        used.update(_parse_proc_net(text, proto))
    return used


def _parse_proc_net(text: str, proto: str) -> Iterable[tuple[str, str, int]]:
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4:
            continue
        if proto == "tcp" and fields[3] != _TCP_LISTEN:
            continue
        addr_hex, _, port_hex = fields[1].partition(":")
        try:
            yield proto, _decode_addr(addr_hex), int(port_hex, 16)
        except ValueError:
            continue


def _decode_addr(hex_addr: str) -> str:
    """``/proc/net`` prints addresses as host-order 32-bit words."""
    raw = bytes.fromhex(hex_addr)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def ephemeral_port_range(
    path: str = "/proc/sys/net/ipv4/ip_local_port_range",
) -> tuple[int, int]:
    """The kernel's local port range (docker's source), or :data:`DEFAULT_PORT_RANGE`."""
    try:
        low, high = (int(x) for x in Path(path).read_text().split())
    except (OSError, ValueError):
        return DEFAULT_PORT_RANGE
    if not 1 <= low <= high <= 65535:
        return DEFAULT_PORT_RANGE
    return low, high


# --- labels ---------------------------------------------------------------------------------------


def parse_ports_label(text: str | None) -> list[PortMapping]:
    """Read a ``nerdctl/ports`` value (Go field names; ``null`` / empty means none)."""
    if not text:
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"malformed nerdctl/ports label {text!r}: {exc}", option="nerdctl/ports", value=text
        ) from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise ValidationError(
            f"nerdctl/ports label must be a JSON list, got {text!r}",
            option="nerdctl/ports",
            value=text,
        )
    result = []
    for item in data:
        try:
            result.append(PortMapping.from_dict(item))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ValidationError(
                f"malformed entry {item!r} in nerdctl/ports label",
                option="nerdctl/ports",
                value=text,
            ) from None
    return result


def ports_label(ports: Sequence[PortMapping]) -> str:
    """The ``nerdctl/ports`` value for ``ports``."""
    return json.dumps([p.to_label() for p in ports], separators=(",", ":"))
