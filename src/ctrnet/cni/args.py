"""``CNI_ARGS``: building the ``K=V;K=V`` string plugins read, and checking each pair first."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ctrnet._errors import ValidationError

__all__ = [
    "check_container_id",
    "check_ifname",
    "cni_args_string",
    "parse_cni_args",
    "with_ignore_unknown",
    "without_ignore_unknown",
]

_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.\-]*\Z")


def _check_pair(key: str, value: str) -> None:
    if not key:
        raise ValidationError(
            f"CNI_ARGS key is empty (value {value!r}); use KEY=VALUE", option="CNI_ARGS", value=key
        )
    for part, what in ((key, "key"), (value, "value")):
        bad = next((c for c in (";", "=", "\0") if c in part), None)
        if bad is not None:
            raise ValidationError(
                f"CNI_ARGS {what} {part!r} contains {bad!r}, which plugins cannot parse; remove it",
                option="CNI_ARGS",
                value=f"{key}={value}",
            )


def with_ignore_unknown(args: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``IgnoreUnknown=1`` first (unless given), then ``args``; every pair checked."""
    pairs = [(str(k), str(v)) for k, v in args]
    for key, value in pairs:
        _check_pair(key, value)
    if any(k == "IgnoreUnknown" for k, _ in pairs):
        return pairs
    return [("IgnoreUnknown", "1"), *pairs]


def without_ignore_unknown(args: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """``args`` without ``IgnoreUnknown`` (a cached ADD's pairs, replayed through
    :func:`with_ignore_unknown` again)."""
    return tuple(p for p in args if p[0] != "IgnoreUnknown")


def cni_args_string(pairs: Iterable[tuple[str, str]]) -> str:
    """``K1=V1;K2=V2`` for already-checked pairs."""
    return ";".join(f"{k}={v}" for k, v in pairs)


def parse_cni_args(text: str) -> tuple[tuple[str, str], ...]:
    """Parse cnitool's ``CNI_ARGS`` (``K=V;K=V``); each pair needs a key and a value."""
    out = []
    for item in text.split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key or not value or "=" in value:
            raise ValidationError(
                f"invalid CNI_ARGS pair {item!r}; write KEY=VALUE pairs separated by ';'",
                option="CNI_ARGS",
                value=text,
            )
        out.append((key, value))
    return tuple(out)


def check_container_id(container_id: str) -> None:
    """The SPEC's container ID rule; it also keeps cache file names inside the cache dir."""
    if not container_id:
        raise ValidationError("container ID is empty; pass a container ID", option="container_id")
    if not _ID_RE.match(container_id):
        raise ValidationError(
            f"invalid container ID {container_id!r}: it must match {_ID_RE.pattern}",
            option="container_id",
            value=container_id,
        )


def check_ifname(ifname: str) -> None:
    """Interface name: 1 to 15 characters, not ``.``/``..``, no ``/``, ``:`` or whitespace."""
    problem = None
    if not ifname:
        problem = "is empty"
    elif len(ifname) > 15:
        problem = "is longer than 15 characters"
    elif ifname in (".", ".."):
        problem = "is not a name"
    elif any(c in "/:" or c.isspace() or c == "\0" for c in ifname):
        problem = "contains '/', ':' or whitespace"
    if problem:
        raise ValidationError(
            f"interface name {ifname!r} {problem}; use e.g. eth0", option="ifname", value=ifname
        )
