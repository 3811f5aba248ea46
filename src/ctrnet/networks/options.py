"""What ``network create`` is asked for, before validation: :class:`NetworkCreateOptions`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ctrnet._errors import ValidationError

__all__ = ["NetworkCreateOptions", "parse_key_values"]


@dataclass(frozen=True, kw_only=True)
class NetworkCreateOptions:
    """The inputs of ``network create``, spelled like nerdctl's flags.

    ``driver=None`` means the platform's default (``bridge`` on Linux, ``nat`` on Windows).
    ``subnets``, ``gateways`` and ``ip_ranges`` are raw strings; each gateway and range is matched
    to the subnet that contains it. No subnet means one is taken from the pool.
    """

    name: str
    driver: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    ipam_driver: str = "default"
    ipam_options: Mapping[str, str] = field(default_factory=dict)
    subnets: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()
    ip_ranges: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    ipv6: bool = False
    internal: bool = False


def parse_key_values(
    items: Iterable[str], option: str, *, allow_bare: bool = False
) -> dict[str, str]:
    """Parse repeated ``KEY=VALUE`` flags; a later key wins. ``allow_bare`` accepts ``KEY``."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not key or (not sep and not allow_bare):
            raise ValidationError(
                f"invalid {option} {item!r}: expected KEY=VALUE", option=option, value=item
            )
        out[key] = value
    return out
