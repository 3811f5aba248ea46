"""``ctrnet setup | teardown | ps | inspect | port | oci-spec``: sandboxes from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ctrnet._errors import ConflictError, CtrnetError, ValidationError, raise_collected
from ctrnet.cli._app import state
from ctrnet.cli._netflags import network_flags
from ctrnet.cli._output import FORMAT_OPTION, echo_json, echo_table

if TYPE_CHECKING:
    from ctrnet.manager.manager import NetworkManager
    from ctrnet.manager.options import NetworkOptions
    from ctrnet.manager.sandbox import Sandbox

__all__ = ["inspect", "oci_spec", "port", "ps", "setup", "teardown"]


def _manager() -> NetworkManager:
    from ctrnet.manager.manager import NetworkManager

    return NetworkManager(state().settings)


def _print_sandbox(sandbox: Sandbox) -> None:
    click.echo(f"ID:        {sandbox.id}")
    if sandbox.name:
        click.echo(f"Name:      {sandbox.name}")
    click.echo(f"Mode:      {sandbox.mode}")
    click.echo(f"Namespace: {sandbox.netns or '(host)'}")
    if sandbox.hostname:
        click.echo(f"Hostname:  {sandbox.hostname}")
    if sandbox.networks:
        click.echo("")
        echo_table(
            ["INTERFACE", "NETWORK", "ADDRESSES", "GATEWAY", "MAC"],
            [
                (n.ifname, n.network, ",".join(n.ips), ",".join(n.gateways), n.mac)
                for n in sandbox.networks
            ],
        )
    if sandbox.ports:
        click.echo("")
        for p in sandbox.ports:
            click.echo(f"Port:      {p}")


@click.command()
@click.argument("sandbox_id", metavar="ID")
@click.option("--name", default=None, help="A name other sandboxes can reach this one by.")
@network_flags
@FORMAT_OPTION
def setup(sandbox_id: str, name: str | None, network_options: NetworkOptions, fmt: str) -> None:
    """Create sandbox ID: a namespace on the given networks, ports, hosts/resolv.conf files."""
    sandbox = _manager().setup(sandbox_id, network_options, name=name)
    if fmt == "json":
        echo_json(sandbox.to_dict())
    else:
        _print_sandbox(sandbox)


@click.command()
@click.argument("sandbox_ids", metavar="ID...", nargs=-1, required=True)
@click.option(
    "-f",
    "--force",
    is_flag=True,
    help="Remove the sandbox even when a DEL fails (or others share its namespace); "
    "what could not be undone is printed as warnings.",
)
def teardown(sandbox_ids: tuple[str, ...], force: bool) -> None:
    """Tear sandboxes down (networks, namespace, files); unknown IDs are not an error."""
    manager = _manager()
    errors: list[BaseException] = []
    in_use: list[str] = []

    def down(sandbox_id: str) -> None:
        for warning in manager.cleanup(sandbox_id, force=force):
            click.echo(f"Warning: {sandbox_id}: {warning}", err=True)
        click.echo(sandbox_id)

    for sandbox_id in sandbox_ids:
        try:
            down(sandbox_id)
        except ConflictError:
            in_use.append(sandbox_id)  # its dependents may be later in the list: retried below
        except CtrnetError as exc:
            errors.append(exc)
    for sandbox_id in in_use:
        try:
            down(sandbox_id)
        except CtrnetError as exc:
            errors.append(exc)
    raise_collected(errors, "teardown")


@click.command()
@click.option("-q", "--quiet", is_flag=True, help="Only print IDs.")
@FORMAT_OPTION
def ps(quiet: bool, fmt: str) -> None:
    """List sandboxes."""
    sandboxes = _manager().list()
    if quiet:
        for sandbox in sandboxes:
            click.echo(sandbox.id)
        return
    if fmt == "json":
        echo_json([s.to_dict() for s in sandboxes])
        return
    echo_table(
        ["SANDBOX ID", "NAME", "MODE", "STATE", "NETWORKS", "ADDRESSES", "PORTS"],
        [
            (
                s.id,
                s.name,
                s.mode,
                s.state,
                ",".join(n.network for n in s.networks),
                ",".join(s.ips),
                ", ".join(str(p) for p in s.ports),
            )
            for s in sandboxes
        ],
    )


@click.command()
@click.argument("refs", metavar="ID...", nargs=-1, required=True)
def inspect(refs: tuple[str, ...]) -> None:
    """Docker-compatible details of sandboxes (ID, name or ID prefix), as a JSON list."""
    manager = _manager()
    found: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    for ref in refs:
        try:
            found.append(manager.get(ref).inspect())
        except CtrnetError as exc:
            errors.append(exc)
    echo_json(found)
    raise_collected(errors, "inspect")


@click.command()
@click.argument("ref", metavar="ID")
@click.argument("private_port", metavar="[PRIVATE_PORT[/PROTO]]", required=False)
def port(ref: str, private_port: str | None) -> None:
    """List a sandbox's published ports, or the host side of one container port."""
    sandbox = _manager().get(ref)
    ports = list(sandbox.ports)
    if private_port:
        number, _, proto = private_port.partition("/")
        if not (number.isascii() and number.isdigit()):
            raise ValidationError(
                f"invalid port {private_port!r}: use PORT or PORT/PROTO, e.g. 80/tcp",
                option="PRIVATE_PORT",
                value=private_port,
            )
        ports = [
            p
            for p in ports
            if p.container_port == int(number) and p.protocol == (proto or "tcp").lower()
        ]
        if not ports:
            raise CtrnetError(
                f"no public port {private_port!r} published for sandbox {sandbox.id!r}"
            )
        for p in ports:
            host = f"[{p.host_ip}]" if ":" in p.host_ip else p.host_ip
            click.echo(f"{host}:{p.host_port}")
        return
    for p in ports:
        click.echo(str(p))


@click.command("oci-spec")
@click.argument("ref", metavar="ID")
def oci_spec(ref: str) -> None:
    """The fragment to merge into an OCI config.json for the sandbox, as JSON."""
    echo_json(_manager().oci_spec(ref))
