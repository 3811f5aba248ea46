"""The network store: every CNI config in the conf dir, and create / remove / prune of ours."""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ctrnet._errors import (
    AmbiguousReference,
    ConflictError,
    CtrnetError,
    MultipleErrors,
    NetworkExists,
    NetworkInUse,
    NetworkNotFound,
    PluginNotFound,
    SubnetConflict,
    UnsupportedOption,
    ValidationError,
    raise_collected,
)
from ctrnet._fs import atomic_write
from ctrnet._settings import Settings
from ctrnet.cni import CNI, CachedAttachment, conflist_from_bytes, scan_dir
from ctrnet.networks import _host, ipam, subnets
from ctrnet.networks._lock import store_lock
from ctrnet.networks._names import (
    PSEUDO_NETWORKS,
    bridge_name_for,
    conflist_filename,
    validate_ifname,
    validate_name,
)
from ctrnet.networks.conflist import DEFAULT_NETWORK_LABEL, document, render
from ctrnet.networks.drivers import build_plugins, check_driver, parse_driver_options
from ctrnet.networks.firewall import PolicyProbe, probe_ingress_policy
from ctrnet.networks.model import Network, network_from_scan
from ctrnet.networks.options import NetworkCreateOptions
from ctrnet.networks.subnets import IPNetwork, UsedSubnet

__all__ = ["InUse", "NetworkStore"]

#: extra in-use check: returns who uses the network (container / sandbox IDs)
InUse = Callable[[Network], list[str]]
#: default network and driver names when ctrnet.platform does not say
_DEFAULTS = {"linux": ("bridge", "bridge"), "windows": ("nat", "nat")}


def _platform_defaults(name: str) -> tuple[str, str]:
    try:
        facts: Any = importlib.import_module("ctrnet.platform").get(name)
        return str(facts.default_network), str(facts.default_driver)
    except (ImportError, AttributeError):
        if name not in _DEFAULTS:
            raise ValidationError(
                f"unknown platform {name!r}; use one of: {', '.join(_DEFAULTS)}",
                option="platform",
                value=name,
            ) from None
        return _DEFAULTS[name]


class NetworkStore:
    """Networks in ``settings.conf_dir``: reads under a shared lock, writes under an exclusive one.

    ``platform`` (a name or a ``ctrnet.platform.Platform``) defaults to ``settings.platform``;
    ``host_subnets`` reads the host's routes and addresses, ``probe_policy`` asks the installed
    firewall plugin whether it accepts an ``ingressPolicy`` and ``link_exists`` tells whether a
    host link (a macvlan / ipvlan parent) exists (all replaceable for tests).
    """

    def __init__(
        self,
        settings: Settings,
        platform: object | None = None,
        *,
        host_subnets: Callable[[], builtins.list[UsedSubnet]] | None = None,
        probe_policy: Callable[[str], PolicyProbe] | None = None,
        link_exists: Callable[[str], bool] | None = None,
    ) -> None:
        self.settings = settings
        if platform is None:
            platform = settings.platform
        self.platform = str(getattr(platform, "name", platform)).lower()
        self.default_name, self.default_driver = _platform_defaults(self.platform)
        self._host_subnets = host_subnets or subnets.host_subnets
        self._probe_policy = probe_policy or (lambda p: probe_ingress_policy(self.settings, p))
        self._link_exists = link_exists or _host.link_exists
        #: this process can touch the platform's host (check routes, delete bridges)
        self.native = self.platform == "linux" and sys.platform.startswith("linux")

    # --- reading ---------------------------------------------------------------------------

    def list(self) -> builtins.list[Network]:
        """Every config file, sorted by path; broken ones have ``error`` set."""
        with store_lock(self.settings.conf_dir, shared=True):
            return self._scan()

    def get(self, ref: str) -> Network:
        """The network named ``ref``, with full ID ``ref``, or whose ID starts with ``ref``."""
        with store_lock(self.settings.conf_dir, shared=True):
            return resolve(self._scan(), ref)

    def default(self) -> Network | None:
        """The default network, if it exists."""
        return next((n for n in self.list() if n.is_default), None)

    def attachments(self, network: Network) -> builtins.list[CachedAttachment]:
        """Attachments in the CNI result cache (``settings.cache_dir``) for ``network``."""
        return CNI.from_settings(self.settings).cached_attachments(network.name)

    def _scan(self) -> builtins.list[Network]:
        nets = [network_from_scan(p, item) for p, item in scan_dir(self.settings.conf_dir)]
        if not any(n.is_default for n in nets):
            for i, net in enumerate(nets):
                if net.name == self.default_name and net.error is None:
                    nets[i] = dataclasses.replace(net, is_default=True)
                    break
        else:
            first = next(i for i, n in enumerate(nets) if n.is_default)
            nets = [
                dataclasses.replace(n, is_default=False) if n.is_default and i != first else n
                for i, n in enumerate(nets)
            ]
        return nets

    # --- creating --------------------------------------------------------------------------

    def create(self, opts: NetworkCreateOptions) -> Network:
        """Validate ``opts``, pick free subnets and write ``nerdctl-<name>.conflist``."""
        name = validate_name(opts.name)
        if name == self.default_name:
            raise ValidationError(
                f"network name {name!r} is reserved for the default network, which is created "
                "on first use; choose another name",
                option="name",
                value=name,
            )
        return self._create(opts, default=False)

    def ensure_default(self) -> Network:
        """The default network, created on first use (safe when several processes race)."""
        found = self.default()
        if found is not None:
            return found
        with store_lock(self.settings.conf_dir, shared=False):
            found = next((n for n in self._scan() if n.is_default), None)
            if found is not None:
                return found
            opts = NetworkCreateOptions(
                name=self.default_name,
                driver=self.default_driver,
                subnets=(self.settings.default_subnet,),
                labels={DEFAULT_NETWORK_LABEL: "true"},
            )
            try:
                return self._create_locked(opts, default=True)
            except SubnetConflict as exc:
                raise SubnetConflict(
                    exc.subnet,
                    exc.other,
                    f"cannot create the default network {self.default_name!r}: its subnet "
                    f"{exc.subnet} overlaps {exc.other}; choose a free one with "
                    "CTRNET_DEFAULT_SUBNET (Settings.default_subnet)",
                ) from None

    def _create(self, opts: NetworkCreateOptions, *, default: bool) -> Network:
        self._validate_static(opts)
        with store_lock(self.settings.conf_dir, shared=False):
            return self._create_locked(opts, default=default)

    def _validate_static(self, opts: NetworkCreateOptions) -> None:
        """Checks that need neither the conf dir nor the host."""
        driver = check_driver(opts.driver or self.default_driver, self.platform)
        parse_driver_options(driver, opts.options)
        allowed = ipam.IPAM_DRIVERS.get(self.platform, ("default",))
        if opts.ipam_driver not in allowed:
            raise UnsupportedOption(
                f"unsupported --ipam-driver {opts.ipam_driver!r} on {self.platform}; "
                f"choose one of: {', '.join(allowed)}",
                option="--ipam-driver",
                value=opts.ipam_driver,
                platform=self.platform,
            )
        if opts.ipam_options:
            raise UnsupportedOption(
                f"--ipam-opt is not supported (got {', '.join(sorted(opts.ipam_options))})",
                option="--ipam-opt",
                value=dict(opts.ipam_options),
            )
        if not opts.subnets and (opts.gateways or opts.ip_ranges):
            raise ValidationError(
                "cannot set --gateway or --ip-range without --subnet; specify --subnet too",
                option="--gateway" if opts.gateways else "--ip-range",
            )
        if driver == "bridge" and not opts.internal:
            self._check_one_ipv4_gateway(opts)
        if opts.internal and driver != "bridge":
            raise UnsupportedOption(
                f"--internal is only supported by the bridge driver, not {driver}",
                option="--internal",
                driver=driver,
            )
        if opts.ipam_driver == "dhcp" and opts.subnets:
            raise ValidationError(
                "--subnet cannot be used with --ipam-driver dhcp: the DHCP server assigns "
                "addresses; drop --subnet, --gateway and --ip-range",
                option="--subnet",
            )
        if driver == "nat":
            if opts.ipv6:
                raise UnsupportedOption(
                    "the nat driver supports IPv4 only; drop --ipv6", option="--ipv6", driver=driver
                )
            if len(opts.subnets) > 1:
                raise UnsupportedOption(
                    "the nat driver takes one --subnet", option="--subnet", driver=driver
                )
            if opts.ip_ranges:
                raise UnsupportedOption(
                    "the nat driver does not support --ip-range; HNS assigns from the whole subnet",
                    option="--ip-range",
                    driver=driver,
                )
        for key in opts.labels:
            if not key:
                raise ValidationError("label keys must not be empty", option="--label")

    @staticmethod
    def _check_one_ipv4_gateway(opts: NetworkCreateOptions) -> None:
        """The bridge plugin gives the bridge one IPv4 gateway and fails on a second subnet."""
        v4 = [n for n in map(subnets.parse_subnet, opts.subnets) if n.version == 4]
        if len(v4) > 1:
            raise UnsupportedOption(
                f"a bridge network takes one IPv4 --subnet, got {', '.join(map(str, v4))}: the "
                "bridge plugin puts one IPv4 gateway on the bridge and fails every attachment "
                'on a second ("already has an IP address different from ..."); give one '
                "IPv4 subnet (IPv6 subnets may be added with --ipv6), or use --internal",
                option="--subnet",
                value=str(v4[1]),
                driver="bridge",
            )

    def _create_locked(self, opts: NetworkCreateOptions, *, default: bool) -> Network:
        self._validate_static(opts)
        driver = opts.driver or self.default_driver
        cfg = parse_driver_options(driver, opts.options)
        name = opts.name
        existing = self._scan()
        path = os.path.join(self.settings.conf_dir, conflist_filename(name))
        if any(n.name == name for n in existing) or os.path.exists(path):
            raise NetworkExists(name)

        if default:
            bridge = validate_ifname(self.settings.default_bridge, "default bridge")
        else:
            bridge = cfg.bridge_name or bridge_name_for(name)
        if driver == "bridge":
            self._check_bridge(bridge, existing, explicit=cfg.bridge_name is not None)

        used = [
            UsedSubnet(s, f"network {n.name!r} ({os.path.basename(n.file)})")
            for n in existing
            for s in n.subnets
        ]
        if self.native and driver == "bridge":
            # macvlan / ipvlan networks live on their parent's LAN, which the host routes
            used += self._host_subnets()
        specs: builtins.list[ipam.SubnetSpec] = []
        if opts.ipam_driver != "dhcp":
            nets = self._subnets(opts, used, default=default)
            specs = ipam.match_to_subnets(nets, opts.gateways, opts.ip_ranges)

        want_ips = opts.ipv6 or opts.ipam_driver == "static"
        if driver == "nat":
            section = ipam.windows_ipam(specs[0])
        else:
            section = ipam.ipam_section(opts.ipam_driver, specs, default_route=not opts.internal)
        plugins = build_plugins(
            driver, cfg, section, bridge=bridge, internal=opts.internal, want_ips=want_ips
        )
        if self.native:
            if driver in ("macvlan", "ipvlan") and cfg.parent:
                self._check_parent(driver, cfg.parent)
            self._check_plugins([p["type"] for p in plugins] + [section.get("type", "")])
            if driver == "bridge" and not cfg.icc:
                self._check_isolation()
        data = render(document(name, opts.labels, plugins))
        atomic_write(path, data, mode=0o644)
        network = network_from_scan(path, conflist_from_bytes(data, path))
        return dataclasses.replace(network, is_default=network.is_default or default)

    def _subnets(
        self, opts: NetworkCreateOptions, used: builtins.list[UsedSubnet], *, default: bool
    ) -> builtins.list[IPNetwork]:
        nets: builtins.list[IPNetwork] = []
        for text in opts.subnets:
            net = subnets.parse_subnet(text)
            if net.version == 6 and not opts.ipv6:
                raise ValidationError(
                    f"--subnet {net} is IPv6; add --ipv6 to create a dual-stack network",
                    option="--subnet",
                    value=text,
                )
            subnets.check_free(net, used)
            for earlier in nets:
                if earlier.version == net.version and earlier.overlaps(net):
                    raise SubnetConflict(
                        str(net), str(earlier), f"--subnet {net} overlaps --subnet {earlier}"
                    )
            nets.append(net)
        if not any(n.version == 4 for n in nets):
            reserved = [] if default else self._reserved_default()
            nets.insert(0, subnets.allocate(self.settings.subnet_pool, used + reserved))
        return nets

    def _reserved_default(self) -> builtins.list[UsedSubnet]:
        """Keep the default network's subnet out of the pool even before it exists."""
        with contextlib.suppress(ValidationError):
            net = subnets.parse_subnet(self.settings.default_subnet)
            return [UsedSubnet(net, f"the default network {self.default_name!r} (reserved)")]
        return []

    def _check_bridge(self, bridge: str, existing: Sequence[Network], *, explicit: bool) -> None:
        for net in existing:
            if net.bridge == bridge:
                raise ConflictError(
                    f"bridge {bridge} is already used by network {net.name!r} ({net.file}); "
                    "choose another com.docker.network.bridge.name"
                )
        if explicit and self.native and os.path.exists(f"/sys/class/net/{bridge}"):
            raise ConflictError(
                f"a link named {bridge} already exists on the host; choose another "
                "com.docker.network.bridge.name"
            )

    def _check_parent(self, driver: str, parent: str) -> None:
        """A macvlan / ipvlan parent must be a host link: the plugin fails every attach without."""
        if not self._link_exists(parent):
            raise ValidationError(
                f"parent link {parent!r} of the {driver} network does not exist on this host "
                f"(no /sys/class/net/{parent}); pass an existing interface with -o parent=NAME "
                "(`ip link` lists them), or create the link first",
                option="parent",
                value=parent,
            )

    def _check_plugins(self, types: Sequence[str]) -> None:
        for plugin in types:
            if not plugin:
                continue
            if not any(os.access(os.path.join(d, plugin), os.X_OK) for d in self.settings.cni_path):
                raise PluginNotFound(plugin, self.settings.cni_path)

    def _check_isolation(self) -> None:
        """icc=false needs ``ingressPolicy: isolated``; refuse it where the plugin lacks it."""
        probe = self._probe_policy("isolated")
        if probe.supported is False:
            raise UnsupportedOption(
                'option icc=false needs the firewall plugin\'s ingressPolicy "isolated" '
                "(containernetworking-plugins 1.7.1 or later), but the firewall plugin in "
                f"{':'.join(self.settings.cni_path)} refuses it ({probe.detail}); upgrade the "
                "CNI plugins, or drop icc=false (containers on one network then reach each other)",
                option="icc",
                value="false",
                driver="bridge",
            )

    # --- removing --------------------------------------------------------------------------

    def remove(
        self, ref: str, *, in_use: InUse | None = None, allow_default: bool = False
    ) -> Network:
        """Remove one of our networks: its file, then its bridge and isolation rules.

        The default network is refused unless ``allow_default`` (for a caller that created it
        and now undoes that, e.g. a demo or a test's teardown); the other rules still apply.
        """
        with store_lock(self.settings.conf_dir, shared=False):
            nets = self._scan()
            net = resolve(nets, ref)
            self._check_removable(net, in_use, allow_default=allow_default)
            os.unlink(net.file)
            self._clean_host(net, [n for n in nets if n.file != net.file])
        return net

    def prune(self, *, in_use: InUse | None = None) -> builtins.list[str]:
        """Remove every managed network that is neither the default nor in use; their names."""
        removed: builtins.list[str] = []
        errors: builtins.list[BaseException] = []
        with store_lock(self.settings.conf_dir, shared=False):
            nets = self._scan()
            for net in nets:
                if net.is_default or not net.managed or net.error is not None:
                    continue
                try:
                    self._check_removable(net, in_use)
                except NetworkInUse:
                    continue
                os.unlink(net.file)
                removed.append(net.name)
                remaining = [n for n in nets if n.file != net.file and n.name not in removed]
                try:
                    self._clean_host(net, remaining)
                except CtrnetError as exc:
                    errors.append(exc)
        if errors:
            raise MultipleErrors(errors, f"pruned {', '.join(removed)}, but")
        return removed

    def _check_removable(
        self, net: Network, in_use: InUse | None, *, allow_default: bool = False
    ) -> None:
        if net.error is not None:
            raise ConflictError(
                f"network {net.name!r} ({net.file}) is not a valid config ({net.error}); "
                "fix or delete the file by hand"
            )
        if net.is_default and not allow_default:
            raise ConflictError(
                f"network {net.name!r} is the default network and cannot be removed"
            )
        if not net.managed:
            raise ConflictError(
                f"network {net.name!r} ({net.file}) was not created by ctrnet or nerdctl and "
                "cannot be removed here; delete the file by hand if you mean it"
            )
        users = [a.container_id for a in self.attachments(net)]
        if in_use is not None:
            users += in_use(net)
        if users:
            raise NetworkInUse(net.name, sorted(set(users)))

    def _clean_host(self, net: Network, remaining: Sequence[Network]) -> None:
        if not self.native:
            return
        if _uses_default_host_local(net) and not any(n.name == net.name for n in remaining):
            _host.remove_lease_dir(net.name)
        bridge = net.bridge
        if bridge is None or any(n.bridge == bridge for n in remaining):
            return
        errors: builtins.list[BaseException] = []
        for step in (_host.delete_isolation_rules, _host.delete_bridge):
            try:
                step(bridge)
            except CtrnetError as exc:
                errors.append(exc)
        raise_collected(errors, f"removed network {net.name!r}, but cleaning up {bridge} failed")


def _uses_default_host_local(net: Network) -> bool:
    """host-local IPAM keeping its leases in the default directory."""
    for plugin in net.conflist.plugins if net.conflist else ():
        ipam = plugin.raw.get("ipam")
        if isinstance(ipam, dict) and ipam.get("type") == "host-local" and not ipam.get("dataDir"):
            return True
    return False


def resolve(networks: Sequence[Network], ref: str) -> Network:
    """Find ``ref`` among ``networks``: exact name, full ID, then unique ID prefix."""
    if ref in PSEUDO_NETWORKS:
        raise NetworkNotFound(ref, f"{ref!r} is a network mode, not a network in the conf dir")
    by_name = [n for n in networks if n.name == ref]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise AmbiguousReference("network", ref, [f"{n.name} ({n.file})" for n in by_name])
    by_id = [n for n in networks if n.id and n.id == ref]
    if len(by_id) == 1:
        return by_id[0]
    prefix = [n for n in networks if n.id and ref and n.id.startswith(ref.lower())]
    unique = {n.id: n for n in prefix}
    if len(unique) == 1 and len(prefix) == 1:
        return prefix[0]
    if prefix:
        raise AmbiguousReference("network", ref, [f"{n.short_id} ({n.name})" for n in prefix])
    raise NetworkNotFound(ref)
