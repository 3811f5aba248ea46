"""The network manager: options, modes, per-platform rules, sandboxes and their files."""

from __future__ import annotations

from ctrnet.manager.extrahosts import ExtraHost, parse_extra_host
from ctrnet.manager.hostsfile import HostsPeer, hosts_block, render_hosts, rewrite_hosts_file
from ctrnet.manager.labels import network_labels
from ctrnet.manager.modes import Attachment, Mode, mode_of
from ctrnet.manager.ocispec import build_fragment, merge_fragment
from ctrnet.manager.options import NetworkOptions
from ctrnet.manager.ports import PortMapping, PortSpec, parse_port, resolve_ports
from ctrnet.manager.rules import verify

__all__ = [
    "Attachment",
    "ExtraHost",
    "HostsPeer",
    "Mode",
    "NetworkOptions",
    "PortMapping",
    "PortSpec",
    "build_fragment",
    "hosts_block",
    "merge_fragment",
    "mode_of",
    "network_labels",
    "parse_extra_host",
    "parse_port",
    "render_hosts",
    "resolve_ports",
    "rewrite_hosts_file",
    "verify",
]

# --- the stateful core (manager core engineer) ---------------------------------------------------
from ctrnet.manager.manager import NetworkManager
from ctrnet.manager.records import validate_sandbox_id, validate_sandbox_name
from ctrnet.manager.sandbox import Sandbox, SandboxNetwork

__all__ += [
    "NetworkManager",
    "Sandbox",
    "SandboxNetwork",
    "validate_sandbox_id",
    "validate_sandbox_name",
]
