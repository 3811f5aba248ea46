"""Network drivers (bridge, macvlan, ipvlan, nat): their options, validation and plugin chains."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ctrnet._errors import UnsupportedOption, ValidationError
from ctrnet.networks._names import validate_ifname

__all__ = [
    "DRIVERS",
    "DriverConfig",
    "build_plugins",
    "drivers_for",
    "parse_driver_options",
]

#: which drivers each platform offers (the first is its default)
DRIVERS: dict[str, tuple[str, ...]] = {
    "linux": ("bridge", "macvlan", "ipvlan"),
    "windows": ("nat",),
}
#: option key (including Docker's aliases) -> canonical name, per driver
_OPTION_KEYS: dict[str, dict[str, str]] = {
    "bridge": {
        "mtu": "mtu",
        "com.docker.network.driver.mtu": "mtu",
        "ip-masq": "ip-masq",
        "com.docker.network.bridge.enable_ip_masquerade": "ip-masq",
        "icc": "icc",
        "com.docker.network.bridge.enable_icc": "icc",
        "com.docker.network.bridge.name": "bridge-name",
    },
    "macvlan": {"mtu": "mtu", "parent": "parent", "mode": "mode", "macvlan_mode": "mode"},
    "ipvlan": {"mtu": "mtu", "parent": "parent", "mode": "mode", "ipvlan_mode": "mode"},
    "nat": {},
}
#: modes the macvlan / ipvlan plugins accept
_MODES: dict[str, tuple[str, ...]] = {
    "macvlan": ("bridge", "private", "vepa", "passthru"),
    "ipvlan": ("l2", "l3", "l3s"),
}
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


@dataclass(frozen=True, kw_only=True)
class DriverConfig:
    """Validated driver options (canonical names)."""

    mtu: int = 0
    ip_masq: bool = True
    icc: bool = True
    bridge_name: str | None = None
    parent: str = ""
    mode: str | None = None


def drivers_for(platform: str) -> tuple[str, ...]:
    return DRIVERS.get(platform, ())


def check_driver(driver: str, platform: str) -> str:
    """Return ``driver`` if ``platform`` offers it, else refuse with the list of what it does."""
    allowed = drivers_for(platform)
    if driver not in allowed:
        raise UnsupportedOption(
            f"unsupported network driver {driver!r} on {platform}; choose one of: "
            + ", ".join(allowed),
            option="--driver",
            value=driver,
            platform=platform,
            driver=driver,
        )
    return driver


def _bool(key: str, value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError(
        f"option {key}={value!r} is not a boolean; use true or false", option=key, value=value
    )


def _mtu(key: str, value: str) -> int:
    try:
        mtu = int(value)
    except ValueError:
        mtu = -1
    if mtu != 0 and not 68 <= mtu <= 65535:
        raise ValidationError(
            f"option {key}={value!r} is not a valid MTU; use an integer from 68 to 65535 "
            "(0 keeps the default)",
            option=key,
            value=value,
        )
    return mtu


def parse_driver_options(driver: str, options: Mapping[str, str]) -> DriverConfig:
    """Validate ``-o`` options for ``driver``; unknown keys are refused with the allowed ones."""
    keys = _OPTION_KEYS[driver]
    values: dict[str, Any] = {}
    for key, value in options.items():
        canonical = keys.get(key)
        if canonical is None:
            allowed = ", ".join(sorted(keys)) if keys else "none"
            raise UnsupportedOption(
                f"unsupported option {key!r} for the {driver} driver; allowed: {allowed}",
                option=key,
                value=value,
                driver=driver,
            )
        parse: Callable[[str, str], Any]
        if canonical == "mtu":
            parse = _mtu
        elif canonical in ("ip-masq", "icc"):
            parse = _bool
        elif canonical == "mode":
            parse = _mode_parser(driver)
        else:
            parse = _ifname
        values[canonical.replace("-", "_")] = parse(key, value)
    return DriverConfig(**values)


def _ifname(key: str, value: str) -> str:
    return validate_ifname(value, key)


def _mode_parser(driver: str) -> Callable[[str, str], str]:
    def parse(key: str, value: str) -> str:
        if value not in _MODES[driver]:
            raise ValidationError(
                f"unknown {driver} mode {value!r} (option {key}); choose one of: "
                + ", ".join(_MODES[driver]),
                option=key,
                value=value,
            )
        return value

    return parse


def build_plugins(
    driver: str,
    cfg: DriverConfig,
    ipam: dict[str, Any],
    *,
    bridge: str,
    internal: bool,
    want_ips: bool,
) -> list[dict[str, Any]]:
    """The plugin chain for ``driver`` (key order as nerdctl writes it)."""
    if driver == "bridge":
        return _bridge(cfg, ipam, bridge=bridge, internal=internal, want_ips=want_ips)
    if driver in ("macvlan", "ipvlan"):
        plugin: dict[str, Any] = {"type": driver, "master": cfg.parent}
        if cfg.mode:
            plugin["mode"] = cfg.mode
        if cfg.mtu:
            plugin["mtu"] = cfg.mtu
        plugin["ipam"] = ipam
        if want_ips:
            plugin["capabilities"] = {"ips": True}
        return [plugin]
    if driver == "nat":
        # nerdctl omits capabilities, so published ports and DNS never reach the plugin
        return [
            {
                "type": "nat",
                "master": "Ethernet",
                "ipam": ipam,
                "capabilities": {"portMappings": True, "dns": True},
            }
        ]
    raise UnsupportedOption(f"unsupported network driver {driver!r}", option="--driver")


def _bridge(
    cfg: DriverConfig, ipam: dict[str, Any], *, bridge: str, internal: bool, want_ips: bool
) -> list[dict[str, Any]]:
    main: dict[str, Any] = {"type": "bridge", "bridge": bridge}
    if not internal:
        main["isGateway"] = True
        if cfg.ip_masq:
            main["ipMasq"] = True
    if cfg.mtu:
        main["mtu"] = cfg.mtu
    main["hairpinMode"] = True
    main["ipam"] = ipam
    if want_ips:
        main["capabilities"] = {"ips": True}
    plugins: list[dict[str, Any]] = [main]
    if not internal:
        plugins.append({"type": "portmap", "capabilities": {"portMappings": True}})
    plugins.append({"type": "firewall", "ingressPolicy": "same-bridge" if cfg.icc else "isolated"})
    plugins.append({"type": "tuning"})
    return plugins


def plugin_types(plugins: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(p["type"]) for p in plugins]
