"""The sandbox's hostname: the flag or the first 12 characters of its ID, plus the file."""

from __future__ import annotations

import re

from ctrnet._errors import ValidationError

__all__ = ["HOST_NAME_MAX", "effective_hostname", "hostname_file_text", "validate_hostname"]

#: Linux's limit for sethostname(2) and setdomainname(2)
HOST_NAME_MAX = 64
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?\Z")


def validate_hostname(value: str, option: str = "--hostname") -> str:
    """``value`` if it is a usable host (or domain) name: dot-separated labels, at most 64 bytes."""
    if len(value.encode()) > HOST_NAME_MAX:
        raise ValidationError(
            f"{option} {value!r} is longer than {HOST_NAME_MAX} characters",
            option=option,
            value=value,
        )
    labels = value.split(".")
    if not value or not all(_LABEL.match(label) and len(label) <= 63 for label in labels):
        raise ValidationError(
            f"invalid {option} {value!r}: use dot-separated labels of letters, digits and '-', "
            "each starting and ending with a letter or digit",
            option=option,
            value=value,
        )
    return value


def effective_hostname(sandbox_id: str, hostname: str = "") -> str:
    """The flag when given, else the first 12 characters of the sandbox ID (nerdctl's rule)."""
    return hostname or sandbox_id[:12]


def hostname_file_text(hostname: str) -> str:
    """The content of the sandbox's ``/etc/hostname``."""
    return f"{hostname}\n"
