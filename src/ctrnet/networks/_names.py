"""Network names, IDs and bridge device names, as nerdctl derives them."""

from __future__ import annotations

import re

from ctrnet._errors import ValidationError

__all__ = ["bridge_name_for", "conflist_filename", "network_id", "validate_name"]

#: containerd's ``identifiers.Validate``, which nerdctl applies to network names
_NAME_RE = re.compile(r"^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*\Z")
_NAME_MAX = 76
#: Linux link names: at most 15 bytes, no '/', whitespace or ':'
_IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}\Z")
#: names that are network modes, never networks
PSEUDO_NETWORKS = ("host", "none")


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid network name, else raise :class:`ValidationError`."""
    if not name:
        raise ValidationError("network name must not be empty", option="name", value=name)
    if len(name) > _NAME_MAX:
        raise ValidationError(
            f"network name {name!r} is longer than {_NAME_MAX} characters; choose a shorter one",
            option="name",
            value=name,
        )
    if not _NAME_RE.match(name):
        raise ValidationError(
            f"malformed network name {name!r}: use letters and digits, separated by single "
            "'.', '_' or '-' (it must start and end with a letter or digit)",
            option="name",
            value=name,
        )
    if name in PSEUDO_NETWORKS:
        raise ValidationError(
            f"network name {name!r} is reserved for the network mode of the same name; "
            "choose another name",
            option="name",
            value=name,
        )
    return name


def validate_ifname(name: str, option: str) -> str:
    """Return ``name`` if it is a usable Linux link name, else raise :class:`ValidationError`."""
    if not _IFNAME_RE.match(name) or name in (".", ".."):
        raise ValidationError(
            f"{option} {name!r} is not a valid interface name: use 1 to 15 letters, digits, "
            "'_', '.' or '-'",
            option=option,
            value=name,
        )
    return name


def network_id(name: str) -> str:
    """The nerdctl network ID: lowercase hex SHA-256 of the name (deterministic)."""
    import hashlib  # ~3 ms to import (OpenSSL): only when an ID is made

    return hashlib.sha256(name.encode()).hexdigest()


def bridge_name_for(name: str) -> str:
    """The bridge device nerdctl gives a non-default network: ``br-<first 12 of the ID>``."""
    return "br-" + network_id(name)[:12]


def conflist_filename(name: str) -> str:
    """The file nerdctl (and ctrnet) writes a network to."""
    return f"nerdctl-{name}.conflist"
