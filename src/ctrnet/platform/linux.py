"""Linux facts (pure data; importable on any OS)."""

from __future__ import annotations

from ctrnet.platform.base import Platform

__all__ = ["LINUX"]

LINUX = Platform(
    name="linux",
    display_name="Linux",
    default_network="bridge",
    default_driver="bridge",
    drivers=("bridge", "macvlan", "ipvlan"),
    ipam_drivers=("default", "host-local", "dhcp"),
    default_conf_dir="/etc/cni/net.d",
    default_cni_path=("/opt/cni/bin", "/usr/lib/cni"),
    default_cache_dir="/var/lib/cni",
    default_data_root="/var/lib/ctrnet",
    default_netns_dir="/run/netns",
    default_subnet="10.4.0.0/24",
    default_bridge="nerdctl0",
    starting_subnet="10.4.1.0/24",
    ifname_prefix="eth",
    exec_extensions=("",),
    allowed_modes=("none", "host", "container", "ns", "cni"),
    mac_address_plugin_types=("bridge", "macvlan"),
)
