"""``ctrnet verify``: run the networking rules of either platform, from any OS."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import TYPE_CHECKING, Any

import click

from ctrnet.cli._app import state
from ctrnet.cli._netflags import network_flags
from ctrnet.cli._output import FORMAT_OPTION, echo_json

if TYPE_CHECKING:
    from ctrnet._settings import Settings
    from ctrnet.manager.modes import Mode, NetworkLike
    from ctrnet.manager.options import NetworkOptions
    from ctrnet.platform import Platform

__all__ = ["verify"]


@dataclass(frozen=True)
class _PlannedDefault:
    """The default network as it will be created on first use (verify creates nothing)."""

    name: str
    first_plugin_type: str | None
    subnets: tuple[IPv4Network | IPv6Network, ...]
    error: str | None = None


@click.command("verify")
@network_flags
@click.option(
    "--platform",
    "platform_name",
    type=click.Choice(["linux", "windows"]),
    default=None,
    help="Check the rules of this platform [default: the --data-root settings' platform].",
)
@FORMAT_OPTION
def verify(network_options: NetworkOptions, platform_name: str | None, fmt: str) -> None:
    """Check networking flags against a platform's rules, changing nothing.

    Networks are looked up in the CNI config directory. Prints OK and the plan (interfaces,
    which network gets --ip), or the error and exits 2.
    """
    from ctrnet._errors import CtrnetError
    from ctrnet.manager.rules import verify as run_rules
    from ctrnet.platform import get

    settings = state().settings
    platform = get(platform_name or settings.platform)
    try:
        mode = run_rules(network_options, platform, _lookup(settings, platform))
    except CtrnetError as exc:
        exc.exit_code = 2
        raise
    for warning in mode.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if fmt == "json":
        echo_json(_as_dict(mode, platform.name))
        return
    click.echo(f"OK: {platform.display_name}, {_describe(mode)}")


def _lookup(settings: Settings, platform: Platform) -> Any:
    from ctrnet._errors import NetworkNotFound
    from ctrnet.networks import NetworkStore

    store = NetworkStore(settings, platform=platform.name)

    def lookup(ref: str) -> NetworkLike:
        try:
            return store.get(ref)
        except NetworkNotFound:
            if ref != platform.default_network or store.default() is not None:
                raise
            return _PlannedDefault(
                name=ref,
                first_plugin_type=platform.default_driver,
                subnets=(ip_network(settings.default_subnet),),
            )

    return lookup


def _describe(mode: Mode) -> str:
    if mode.kind != "cni":
        return f"mode {mode.label_value()[0]}"
    parts = []
    for att in mode.attachments:
        extra = [f"{k} {v}" for k, v in (("ip", att.ip), ("ip6", att.ip6), ("mac", att.mac)) if v]
        parts.append(
            f"{att.network.name} as {att.ifname}" + (f" ({', '.join(extra)})" if extra else "")
        )
    return "networks " + ", ".join(parts)


def _as_dict(mode: Mode, platform: str) -> dict[str, Any]:
    return {
        "ok": True,
        "platform": platform,
        "mode": mode.kind,
        "target": mode.target,
        "networks": [
            {
                "name": a.network.name,
                "ifname": a.ifname,
                "ip": a.ip,
                "ip6": a.ip6,
                "mac": a.mac,
            }
            for a in mode.attachments
        ],
        "warnings": list(mode.warnings),
    }
