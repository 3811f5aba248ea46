"""Windows facts (pure data; importable on any OS, so Windows rules are tested on Linux)."""

from __future__ import annotations

from ctrnet.platform.base import Platform

__all__ = ["UNSUPPORTED_NETWORK_ARGS", "WINDOWS"]

#: refused with one error, in this order (nerdctl's declaration order, ``--domainname`` from
#: v2.0.4 last), spelled as the real flags (nerdctl says ``--ip-address`` / ``--dns-servers``)
UNSUPPORTED_NETWORK_ARGS: tuple[str, ...] = (
    "--hostname",
    "--uts",
    "--ip",
    "--mac-address",
    "--dns-opt",
    "--dns",
    "--dns-search",
    "--add-host",
    "--domainname",
)

_PROGRAM_FILES = "C:\\Program Files"

WINDOWS = Platform(
    name="windows",
    display_name="Windows",
    default_network="nat",
    default_driver="nat",
    drivers=("nat",),
    ipam_drivers=("default",),
    default_conf_dir=_PROGRAM_FILES + "\\containerd\\cni\\conf",
    default_cni_path=(_PROGRAM_FILES + "\\containerd\\cni\\bin",),
    # libcni's default "/var/lib/cni" is drive-relative on Windows; nerdctl never overrides it
    default_cache_dir="C:\\var\\lib\\cni",
    default_data_root="C:\\ProgramData\\ctrnet",
    default_netns_dir="",
    default_subnet="10.4.0.0/24",
    default_bridge="",
    starting_subnet="10.4.1.0/24",
    ifname_prefix="eth",
    exec_extensions=(".exe", ""),
    allowed_modes=("none", "cni"),
    refused_modes={
        "host": "cannot use host networking on Windows",
        "container": "container networking mode is currently only supported on Linux",
        "ns": "ns:<path> networking mode is currently only supported on Linux",
    },
    unsupported_network_args=UNSUPPORTED_NETWORK_ARGS,
    network_plugin_types=("nat",),
)
