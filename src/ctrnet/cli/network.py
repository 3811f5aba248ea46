"""``ctrnet network create|ls|inspect|rm|prune``: nerdctl's network commands."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ctrnet._errors import CtrnetError, ValidationError, raise_collected
from ctrnet.cli._app import state
from ctrnet.cli._output import echo_json, echo_table
from ctrnet.networks import Network, NetworkCreateOptions, NetworkStore
from ctrnet.networks.ipam import dhcp_hint
from ctrnet.networks.options import parse_key_values


def _store() -> NetworkStore:
    return NetworkStore(state().settings)


@click.group("network")
def network() -> None:
    """Manage networks (CNI conflists in the conf dir)."""


@network.command("create")
@click.argument("name")
@click.option(
    "-d", "--driver", default=None, help="Driver: bridge, macvlan, ipvlan (nat on Windows)."
)
@click.option("-o", "--opt", "opts", multiple=True, metavar="KEY=VALUE", help="Driver option.")
@click.option(
    "--ipam-driver",
    default="default",
    show_default=True,
    help="default, host-local, static or dhcp.",
)
@click.option("--ipam-opt", "ipam_opts", multiple=True, metavar="KEY=VALUE", help="IPAM option.")
@click.option("--subnet", "subnets", multiple=True, metavar="CIDR", help="Subnet (repeatable).")
@click.option(
    "--gateway",
    "gateways",
    multiple=True,
    metavar="IP",
    help="Gateway of the subnet that contains it.",
)
@click.option(
    "--ip-range",
    "ip_ranges",
    multiple=True,
    metavar="CIDR",
    help="Allocation range inside a subnet.",
)
@click.option("--label", "labels", multiple=True, metavar="KEY[=VALUE]", help="Network label.")
@click.option("--ipv6", is_flag=True, help="Enable IPv6 (dual stack).")
@click.option(
    "--internal", is_flag=True, help="No gateway, masquerade, port mapping or default route."
)
def create(
    name: str,
    driver: str | None,
    opts: tuple[str, ...],
    ipam_driver: str,
    ipam_opts: tuple[str, ...],
    subnets: tuple[str, ...],
    gateways: tuple[str, ...],
    ip_ranges: tuple[str, ...],
    labels: tuple[str, ...],
    ipv6: bool,
    internal: bool,
) -> None:
    """Create a network and print its ID."""
    options = NetworkCreateOptions(
        name=name,
        driver=driver,
        options=parse_key_values(opts, "--opt"),
        ipam_driver=ipam_driver,
        ipam_options=parse_key_values(ipam_opts, "--ipam-opt"),
        subnets=subnets,
        gateways=gateways,
        ip_ranges=ip_ranges,
        labels=parse_key_values(labels, "--label", allow_bare=True),
        ipv6=ipv6,
        internal=internal,
    )
    net = _store().create(options)
    if ipam_driver == "dhcp" and (hint := dhcp_hint()):
        click.echo(f"Warning: {hint}", err=True)
    click.echo(net.id)


def _filters(items: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in ("name", "label"):
            raise ValidationError(
                f"invalid --filter {item!r}: use name=SUBSTRING or label=KEY[=VALUE]",
                option="--filter",
                value=item,
            )
        out.append((key, value))
    return out


def _matches(net: Network, filters: list[tuple[str, str]]) -> bool:
    for key, value in filters:
        if key == "name" and value not in net.name:
            return False
        if key == "label":
            lkey, sep, lvalue = value.partition("=")
            if lkey not in net.labels or (sep and net.labels[lkey] != lvalue):
                return False
    return True


def _ls_row(net: Network) -> dict[str, Any]:
    return {
        "ID": net.short_id,
        "Name": net.name,
        "Driver": net.driver if net.error is None else "(invalid)",
        "Subnets": [str(s) for s in net.subnets],
        "File": net.file,
        "Labels": ",".join(f"{k}={v}" for k, v in net.labels.items()),
        "Default": net.is_default,
        "Error": net.error,
    }


@network.command("ls")
@click.option("-q", "--quiet", is_flag=True, help="Print only the IDs.")
@click.option(
    "-f", "--filter", "filters", multiple=True, metavar="KEY=VALUE", help="name=… or label=…"
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def ls(quiet: bool, filters: tuple[str, ...], fmt: str) -> None:
    """List networks, including foreign and broken config files."""
    if quiet and fmt != "table":
        raise ValidationError("--format and --quiet must not be given together", option="--quiet")
    parsed = _filters(filters)
    nets = [n for n in _store().list() if _matches(n, parsed)]
    if quiet:
        for net in nets:
            if net.id:
                click.echo(net.short_id)
        return
    if fmt == "json":
        for net in nets:
            click.echo(json.dumps(_ls_row(net)))
        return
    rows: list[list[object]] = [
        [r["ID"], r["Name"], r["Driver"], ",".join(r["Subnets"]), r["File"]]
        for r in map(_ls_row, nets)
    ]
    if not parsed:
        rows += [["", "host", "host", "", ""], ["", "none", "null", "", ""]]
    echo_table(["NETWORK ID", "NAME", "DRIVER", "SUBNETS", "FILE"], rows)
    for net in nets:
        if net.error:
            click.echo(f"Warning: {net.file} is invalid: {net.error}", err=True)


def _containers(store: NetworkStore, net: Network) -> dict[str, Any]:
    """Docker's ``Containers``: one entry per cached attachment, keyed by container ID."""
    out: dict[str, Any] = {}
    for att in store.attachments(net):
        result: dict[str, Any] = dict(att.result or {})
        entry: dict[str, Any] = {
            "Name": att.container_id,
            "Interface": att.ifname,
            "SandboxKey": att.netns,
            "MacAddress": "",
            "IPv4Address": "",
            "IPv6Address": "",
        }
        for iface in result.get("interfaces") or []:
            if isinstance(iface, dict) and iface.get("sandbox") and iface.get("mac"):
                entry["MacAddress"] = str(iface["mac"])
        addresses = [ip.get("address") for ip in result.get("ips") or [] if isinstance(ip, dict)]
        addresses += [
            result[key].get("ip") for key in ("ip4", "ip6") if isinstance(result.get(key), dict)
        ]
        for address in addresses:
            if isinstance(address, str):
                key = "IPv6Address" if ":" in address else "IPv4Address"
                entry[key] = entry[key] or address
        out[att.container_id if att.ifname == "eth0" else f"{att.container_id}/{att.ifname}"] = (
            entry
        )
    return out


def dockercompat(store: NetworkStore, net: Network) -> dict[str, Any]:
    """A ``docker network inspect``-shaped view of ``net``."""
    ipam_driver = "default"
    if net.conflist is not None:
        for plugin in net.conflist.plugins:
            if isinstance(plugin.raw.get("ipam"), dict):
                ipam_driver = str(plugin.raw["ipam"].get("type") or "default")
                break
    config = [
        {
            "Subnet": str(e.subnet),
            **({"Gateway": str(e.gateway)} if e.gateway else {}),
            **({"IPRange": e.ip_range} if e.ip_range else {}),
        }
        for e in net.ipam
    ]
    return {
        "Name": net.name,
        "Id": net.id,
        "Scope": "local",
        "Driver": net.driver,
        "EnableIPv6": net.ipv6,
        "IPAM": {"Driver": ipam_driver, "Options": {}, "Config": config},
        "Internal": net.internal,
        "Containers": _containers(store, net) if net.error is None else {},
        "Labels": dict(net.labels),
        "File": net.file,
        **({"Error": net.error} if net.error else {}),
    }


def native(net: Network) -> dict[str, Any]:
    """nerdctl's ``--mode native`` view: the raw conflist plus its ctrnet/nerdctl metadata."""
    out: dict[str, Any] = {"CNI": net.conflist.raw if net.conflist is not None else None}
    if net.id:
        out["NerdctlID"] = net.id
    if net.labels:
        out["NerdctlLabels"] = dict(net.labels)
    out["File"] = net.file
    if net.error:
        out["Error"] = net.error
    return out


@network.command("inspect")
@click.argument("refs", nargs=-1, required=True, metavar="NETWORK...")
@click.option(
    "--mode",
    type=click.Choice(["dockercompat", "native"]),
    default="dockercompat",
    show_default=True,
)
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", hidden=True)
def inspect(refs: tuple[str, ...], mode: str, fmt: str) -> None:
    """Show networks as JSON (found ones are printed even when others fail)."""
    store = _store()
    found: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    for ref in refs:
        try:
            net = store.get(ref)
        except CtrnetError as exc:
            errors.append(exc)
            continue
        found.append(native(net) if mode == "native" else dockercompat(store, net))
    if found:
        echo_json(found)
    raise_collected(errors, "inspect")


@network.command("rm")
@click.argument("refs", nargs=-1, required=True, metavar="NETWORK...")
def rm(refs: tuple[str, ...]) -> None:
    """Remove networks that are not in use (with their bridge and isolation rules)."""
    store = _store()
    errors: list[BaseException] = []
    for ref in refs:
        try:
            store.remove(ref)
        except CtrnetError as exc:
            errors.append(exc)
            continue
        click.echo(ref)
    raise_collected(errors, "rm")


@network.command("prune")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
def prune(force: bool) -> None:
    """Remove every network that no sandbox uses (never the default network or foreign files)."""
    if not force:
        click.echo(
            "WARNING! This will remove all custom networks not used by at least one container.\n"
            "Are you sure you want to continue? [y/N] ",
            nl=False,
        )
        answer = sys.stdin.readline().strip()
        if answer not in ("y", "Y"):
            return
    removed = _store().prune()
    if removed:
        click.echo("Deleted Networks:")
        for name in removed:
            click.echo(name)
        click.echo()
