"""Per-OS facts (pure data, importable anywhere) and namespace backends (imported lazily).

``get("linux" | "windows")`` returns the facts of either platform on any host, so Windows rules
are checked on Linux; ``namespace_backend(settings)`` imports the OS calls only when asked.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ctrnet._errors import ValidationError
from ctrnet.platform.base import AllocatingNamespaceBackend, NamespaceBackend, Platform
from ctrnet.platform.linux import LINUX
from ctrnet.platform.windows import WINDOWS

if TYPE_CHECKING:
    from ctrnet._settings import Settings

__all__ = [
    "NAMES",
    "AllocatingNamespaceBackend",
    "NamespaceBackend",
    "Platform",
    "current",
    "get",
    "namespace_backend",
]

_PLATFORMS: dict[str, Platform] = {LINUX.name: LINUX, WINDOWS.name: WINDOWS}
#: the platform names ``get`` accepts
NAMES: tuple[str, ...] = tuple(_PLATFORMS)


def get(name: str) -> Platform:
    """The facts of the platform called ``name`` ("linux" or "windows", any case)."""
    platform = _PLATFORMS.get(name.lower())
    if platform is None:
        raise ValidationError(
            f"unknown platform {name!r}; use one of: {', '.join(NAMES)}",
            option="platform",
            value=name,
        )
    return platform


def current() -> Platform:
    """The facts of the OS this process runs on (Linux facts for every non-Windows OS)."""
    return WINDOWS if sys.platform == "win32" else LINUX


def namespace_backend(settings: Settings) -> NamespaceBackend:
    """The namespace backend for ``settings.platform``: Linux netns or Windows HCN."""
    platform = get(settings.platform)
    if platform is WINDOWS:
        from ctrnet.platform._hcn_windows import HcnNamespaceBackend

        return HcnNamespaceBackend()
    from ctrnet.platform._netns_linux import NetnsBackend

    return NetnsBackend(settings.netns_dir)
