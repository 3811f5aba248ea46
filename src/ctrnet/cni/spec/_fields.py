"""Strict readers for wire JSON: each names the field it rejects, and raises only InvalidResult."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
)
from typing import Any

from ctrnet._errors import InvalidResult

IPAddress = IPv4Address | IPv6Address
IPInterface = IPv4Interface | IPv6Interface
IPNetwork = IPv4Network | IPv6Network

_PREFIX_RE = re.compile(r"[0-9]{1,3}")


def load_object(data: Mapping[str, Any] | bytes | str, *, what: str) -> Mapping[str, Any]:
    """Decode *data* (JSON bytes/str or an already decoded mapping) into a JSON object."""
    if isinstance(data, Mapping):
        return data
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidResult(
                f"not UTF-8 ({exc.reason} at byte {exc.start})", what=what
            ) from None
    if not isinstance(data, str):
        raise InvalidResult(
            f"expected JSON text or a mapping, got {type(data).__name__}", what=what
        )
    try:
        obj = json.loads(data)
    except ValueError as exc:
        shown = data[:80] + ("..." if len(data) > 80 else "")
        raise InvalidResult(f"not valid JSON ({exc}): {shown!r}", what=what) from None
    except RecursionError:
        raise InvalidResult("JSON nested too deeply", what=what) from None
    if not isinstance(obj, dict):
        raise InvalidResult(f"expected a JSON object, got {_kind(obj)}", what=what)
    return obj


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


class Reader:
    """Reads one JSON object, remembering its path (``ips[0]``) for error messages."""

    __slots__ = ("obj", "path", "what")

    def __init__(self, obj: object, path: str, what: str) -> None:
        if not isinstance(obj, Mapping):
            raise InvalidResult(f"expected an object, got {_kind(obj)}", field=path, what=what)
        self.obj: Mapping[str, Any] = obj
        self.path = path
        self.what = what

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, reason: str) -> InvalidResult:
        return InvalidResult(reason, field=self.field(key), what=self.what)

    def extra(self, known: frozenset[str]) -> dict[str, Any]:
        """The keys this model does not know, kept for a faithful round trip."""
        return {k: v for k, v in self.obj.items() if k not in known}

    # --- scalars ---

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.obj.get(key)
        if value is None:
            if required:
                raise self.fail(key, "required string is missing")
            return ""
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {_kind(value)}")
        return value

    def integer(self, key: str, *, minimum: int = 0, maximum: int = 2**32 - 1) -> int | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, got {_kind(value)}")
        if not minimum <= value <= maximum:
            raise self.fail(key, f"{value} is out of range {minimum}..{maximum}")
        return value

    def strings(self, key: str) -> list[str]:
        value = self.obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of strings, got {_kind(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{key}[{i}]", f"must be a string, got {_kind(item)}")
        return list(value)

    # --- nested ---

    def children(self, key: str) -> list[Reader]:
        value = self.obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of objects, got {_kind(value)}")
        base = self.field(key)
        return [Reader(item, f"{base}[{i}]", self.what) for i, item in enumerate(value)]

    def child(self, key: str) -> Reader | None:
        value = self.obj.get(key)
        if value is None:
            return None
        return Reader(value, self.field(key), self.what)

    # --- addresses ---

    def interface(self, key: str) -> IPInterface:
        """An address with prefix length, ``10.1.0.5/24`` (Go's ``ParseCIDR``; no zones)."""
        text = self.text(key, required=True)
        addr, sep, prefix = text.partition("/")
        if not sep or not _PREFIX_RE.fullmatch(prefix):
            raise self.fail(key, f"{text!r} is not an address in CIDR form such as '10.1.0.5/24'")
        ip = self._address(key, addr, text)
        if int(prefix) > ip.max_prefixlen:
            raise self.fail(key, f"{text!r} has a prefix length above {ip.max_prefixlen}")
        if isinstance(ip, IPv4Address):
            return IPv4Interface((ip, int(prefix)))
        return IPv6Interface((ip, int(prefix)))

    def network(self, key: str) -> IPNetwork:
        """A destination in CIDR form; host bits are cleared (``10.1.2.3/8`` -> ``10.0.0.0/8``)."""
        iface = self.interface(key)
        return iface.network

    def address(self, key: str) -> IPAddress | None:
        """An optional plain address (a gateway)."""
        text = self.text(key)
        if not text:
            return None
        return self._address(key, text, text)

    def _address(self, key: str, addr: str, text: str) -> IPAddress:
        if "%" in addr:
            raise self.fail(key, f"{text!r} carries a zone; CNI addresses have none")
        try:
            if ":" in addr:
                return IPv6Address(addr)
            return IPv4Address(addr)
        except ValueError:
            raise self.fail(key, f"{text!r} is not a valid IP address") from None


def put(out: dict[str, Any], key: str, value: object) -> None:
    """Set *key* unless *value* is empty, as Go's ``omitempty`` does."""
    if value is not None and value != "" and value != []:
        out[key] = value
