"""The network manager: options, modes, per-platform rules, sandboxes and their files."""

from __future__ import annotations

from ctrnet.manager.extrahosts import ExtraHost, parse_extra_host
from ctrnet.manager.modes import Attachment, Mode, mode_of
from ctrnet.manager.options import NetworkOptions
from ctrnet.manager.ports import PortMapping, PortSpec, parse_port, resolve_ports
from ctrnet.manager.rules import verify

__all__ = [
    "Attachment",
    "ExtraHost",
    "Mode",
    "NetworkOptions",
    "PortMapping",
    "PortSpec",
    "mode_of",
    "parse_extra_host",
    "parse_port",
    "resolve_ports",
    "verify",
]
