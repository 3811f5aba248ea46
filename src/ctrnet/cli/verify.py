"""``ctrnet verify``: run the networking rules of either platform, from any OS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ctrnet.cli._app import state
from ctrnet.cli._netflags import network_flags
from ctrnet.cli._output import FORMAT_OPTION, echo_json

if TYPE_CHECKING:
    from ctrnet.manager.modes import Mode
    from ctrnet.manager.options import NetworkOptions

__all__ = ["verify"]


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
    from ctrnet import NetworkManager
    from ctrnet._errors import CtrnetError
    from ctrnet.platform import get

    settings = state().settings
    platform = get(platform_name or settings.platform)
    try:
        mode = NetworkManager(settings.with_(platform=platform.name)).verify(network_options)
    except CtrnetError as exc:
        exc.exit_code = 2
        raise
    for warning in mode.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if fmt == "json":
        echo_json(_as_dict(mode, platform.name))
        return
    click.echo(f"OK: {platform.display_name}, {_describe(mode)}")


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
