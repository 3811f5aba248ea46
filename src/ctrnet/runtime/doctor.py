"""``ctrnet doctor``: is this host ready for ctrnet? Each check says how to fix what fails.

Checks only read; nothing on the host changes. ``fail`` means ctrnet cannot work (exit 1);
``warn`` means something optional is missing (e.g. containerd for ``ctr run --with-ns``).
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ctrnet._errors import CtrnetError
from ctrnet._settings import Settings

__all__ = ["REQUIRED_PLUGINS", "Check", "HostProbe", "run_checks"]

#: plugins the default network (nerdctl's conflist) and ``ctrnet run`` use
REQUIRED_PLUGINS = ("bridge", "host-local", "portmap", "firewall", "tuning")
OPTIONAL_PLUGINS = ("loopback", "macvlan", "ipvlan", "static")
_CAP_NET_ADMIN = 12


@dataclass(frozen=True)
class Check:
    """One result: ``status`` is ``ok``, ``warn`` or ``fail``; ``fix`` is set unless ``ok``."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class HostProbe:
    """Where the checks look (replaceable, so tests can break a precondition without breaking
    the host): command lookup, the effective UID, and two files under /proc."""

    which: Callable[[str], str | None] = field(default=shutil.which)
    euid: Callable[[], int] = field(default=os.geteuid)
    proc_status: str = "/proc/self/status"
    ip_forward: str = "/proc/sys/net/ipv4/ip_forward"


def _plugins(settings: Settings) -> list[Check]:
    from ctrnet.cni import CNI

    cni = CNI.from_settings(settings)
    where = ":".join(settings.cni_path)
    out: list[Check] = []
    for plugin in (*REQUIRED_PLUGINS, *OPTIONAL_PLUGINS):
        required = plugin in REQUIRED_PLUGINS
        name = f"plugin {plugin}"
        try:
            info = cni.version_info(plugin)
        except CtrnetError as exc:
            missing = "not found" in str(exc)
            fix = (
                "install containernetworking-plugins (apt-get install "
                "containernetworking-plugins) or point CNI_PATH / --cni-path at them"
                if missing
                else f"the {plugin} plugin found in {where} fails its CNI VERSION call; "
                "reinstall containernetworking-plugins or remove the broken binary"
            )
            out.append(
                Check(
                    name,
                    "fail" if required else "warn",
                    f"not found in {where}" if missing else str(exc),
                    fix,
                )
            )
            continue
        versions = ", ".join(info.get("supportedVersions", []))
        out.append(Check(name, "ok", f"speaks CNI {versions}"))
    return out


def _firewall(probe: HostProbe) -> list[Check]:
    iptables = probe.which("iptables")
    if iptables is None:
        return [
            Check(
                "iptables",
                "fail",
                "iptables is not installed; the bridge, portmap and firewall plugins call it",
                "apt-get install iptables",
            )
        ]
    proc = subprocess.run([iptables, "--version"], capture_output=True, text=True, check=False)
    text = proc.stdout.strip() or proc.stderr.strip()
    backend = "nf_tables" if "nf_tables" in text else "legacy" if "legacy" in text else "unknown"
    checks = [Check("iptables", "ok", f"{text} (backend: {backend})")]
    if backend == "nf_tables" and probe.which("nft") is None:
        checks.append(
            Check(
                "nft",
                "warn",
                "nft is not installed; rules made by iptables-nft cannot be listed with nft",
                "apt-get install nftables",
            )
        )
    return checks


def _ip_forward(probe: HostProbe) -> Check:
    try:
        value = Path(probe.ip_forward).read_text().strip()
    except OSError as exc:
        return Check(
            "ip_forward",
            "warn",
            f"cannot read net.ipv4.ip_forward: {exc}",
            "check that /proc is mounted, then `sysctl net.ipv4.ip_forward`",
        )
    if value == "1":
        return Check("ip_forward", "ok", "net.ipv4.ip_forward = 1")
    return Check(
        "ip_forward",
        "warn",
        "net.ipv4.ip_forward = 0; the bridge plugin turns it on at the first ADD, other "
        "drivers may not",
        "sysctl -w net.ipv4.ip_forward=1 (persist it in /etc/sysctl.d/)",
    )


def _privileges(probe: HostProbe) -> Check:
    if probe.euid() == 0:
        return Check("privileges", "ok", "running as root")
    try:
        status = Path(probe.proc_status).read_text()
    except OSError:
        status = ""
    match = re.search(r"^CapEff:\s*([0-9a-f]+)$", status, re.M)
    if match and int(match.group(1), 16) & (1 << _CAP_NET_ADMIN):
        return Check("privileges", "ok", "CAP_NET_ADMIN is effective")
    return Check(
        "privileges",
        "fail",
        "not root and CAP_NET_ADMIN is not effective; namespaces and CNI plugins need it",
        "run ctrnet as root (sudo) or grant CAP_NET_ADMIN and CAP_SYS_ADMIN",
    )


def _writable(name: str, directory: str, flag: str) -> Check:
    probe = directory
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK):
        what = "writable" if probe == directory else f"can be created (under {probe})"
        return Check(name, "ok", f"{directory} {what}")
    return Check(
        name,
        "fail",
        f"{directory} is not writable by this user",
        f"run as root, fix the permissions of {probe}, or choose another directory with {flag}",
    )


def _default_subnet(settings: Settings) -> Check:
    from ctrnet.networks import NetworkStore
    from ctrnet.networks.subnets import host_subnets

    try:
        # a missing conf dir holds no default network; don't let the store create it
        existing = NetworkStore(settings).default() if os.path.isdir(settings.conf_dir) else None
    except (CtrnetError, OSError) as exc:
        return Check(
            "default subnet",
            "warn",
            f"cannot read {settings.conf_dir}: {exc}",
            f"fix the files or permissions of {settings.conf_dir}, or choose another directory "
            "with --cni-netconfpath / NETCONFPATH",
        )
    if existing is not None:
        subnets = ", ".join(str(s) for s in existing.subnets) or "no subnet"
        return Check(
            "default subnet", "ok", f"default network {existing.name!r} exists ({subnets})"
        )
    try:
        wanted = ipaddress.ip_network(settings.default_subnet)
    except ValueError:
        return Check(
            "default subnet",
            "fail",
            f"CTRNET_DEFAULT_SUBNET {settings.default_subnet!r} is not a subnet",
            "set CTRNET_DEFAULT_SUBNET to a CIDR such as 10.4.0.0/24",
        )
    try:
        used = host_subnets()
    except CtrnetError as exc:
        return Check("default subnet", "warn", str(exc), "apt-get install iproute2")
    clash = next(
        (u for u in used if u.network.version == wanted.version and u.network.overlaps(wanted)),
        None,
    )
    if clash is None:
        return Check("default subnet", "ok", f"{wanted} is free on this host")
    return Check(
        "default subnet",
        "fail",
        f"{wanted} overlaps {clash.owner}; the default network cannot be created",
        "set CTRNET_DEFAULT_SUBNET to a free subnet (e.g. 10.88.0.0/24)",
    )


def _tools(probe: HostProbe) -> list[Check]:
    out = []
    for tool, why, pkg in (
        ("runc", "ctrnet run --rootfs/--bundle", "runc"),
        ("ctr", "ctr run --with-ns (containerd)", "containerd"),
    ):
        path = probe.which(tool)
        if path:
            out.append(Check(tool, "ok", f"{path} (for {why})"))
        else:
            out.append(
                Check(tool, "warn", f"{tool} not found; needed for {why}", f"apt-get install {pkg}")
            )
    return out


def run_checks(settings: Settings, probe: HostProbe | None = None) -> list[Check]:
    """Every check, in a stable order; ``probe`` defaults to the real host."""
    host = probe or HostProbe()
    steps: list[Callable[[], list[Check]]] = [
        lambda: [_privileges(host)],
        lambda: _plugins(settings),
        lambda: _firewall(host),
        lambda: [_ip_forward(host)],
        lambda: [_writable("conf dir", settings.conf_dir, "--cni-netconfpath / NETCONFPATH")],
        lambda: [_writable("data root", settings.data_root, "--data-root / CTRNET_DATA_ROOT")],
        lambda: [_default_subnet(settings)],
        lambda: _tools(host),
    ]
    checks: list[Check] = []
    for step in steps:
        checks.extend(step())
    return checks
