"""``ctrnet cni {add|del|check|gc|status|version} NETWORK NETNS``: a drop-in for cnitool.

Same arguments and environment as cnitool (``NETCONFPATH``, ``CNI_PATH``, ``CNI_IFNAME``,
``CAP_ARGS``, ``CNI_ARGS``), plus ``CNI_CONTAINERID`` and ``CNI_CACHEDIR``. Without a container ID
it is derived from the netns path exactly as cnitool does, so either tool can undo the other's ADD.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from typing import Any

import click

from ctrnet._errors import ValidationError
from ctrnet.cli._app import state
from ctrnet.cli._output import echo_json

__all__ = ["cni", "cnitool_container_id"]


def cnitool_container_id(netns: str) -> str:
    """``cnitool-`` + hex of the first 10 bytes of sha512(absolute netns path)."""
    return "cnitool-" + hashlib.sha512(os.path.abspath(netns).encode()).hexdigest()[:20]


def _capability_args(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationError(
            f"CAP_ARGS is not valid JSON ({exc}); give an object such as "
            '\'{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}\'',
            option="CAP_ARGS",
            value=text,
        ) from None
    if not isinstance(value, dict):
        raise ValidationError("CAP_ARGS must be a JSON object", option="CAP_ARGS", value=text)
    return value


def _attachment_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "-i",
            "--ifname",
            envvar="CNI_IFNAME",
            default="eth0",
            show_default=True,
            help="Interface name in the namespace [env CNI_IFNAME].",
        ),
        click.option(
            "--container-id",
            envvar="CNI_CONTAINERID",
            default=None,
            help="Container ID [env CNI_CONTAINERID; default derived from NETNS like cnitool].",
        ),
        click.option(
            "--cap-args",
            envvar="CAP_ARGS",
            default=None,
            metavar="JSON",
            help="Capability args as a JSON object [env CAP_ARGS].",
        ),
        click.option(
            "--args",
            "cni_args",
            envvar="CNI_ARGS",
            default=None,
            metavar="K=V;K=V",
            help="CNI_ARGS pairs [env CNI_ARGS].",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return _cache_option(fn)


def _cache_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--cache-dir",
        envvar="CNI_CACHEDIR",
        default=None,
        metavar="DIR",
        help="Result cache directory [env CNI_CACHEDIR; default /var/lib/cni].",
    )(fn)


def _setup(network: str, cache_dir: str | None) -> tuple[Any, Any]:
    from ctrnet.cni import CNI, find

    settings = state().settings
    if cache_dir:
        settings = settings.with_(cache_dir=cache_dir)
    return CNI.from_settings(settings), find(settings.conf_dir, network)


def _runtime_conf(
    netns: str, ifname: str, container_id: str | None, cap_args: str | None, cni_args: str | None
) -> Any:
    from ctrnet.cni import RuntimeConf
    from ctrnet.cni.args import parse_cni_args

    path = os.path.abspath(netns)
    return RuntimeConf(
        container_id=container_id or cnitool_container_id(path),
        netns=path,
        ifname=ifname,
        args=parse_cni_args(cni_args or ""),
        capability_args=_capability_args(cap_args),
    )


@click.group()
def cni() -> None:
    """Run CNI operations on a configured network (cnitool compatible)."""


@cni.command()
@click.argument("network")
@click.argument("netns")
@_attachment_options
def add(network: str, netns: str, **kw: Any) -> None:
    """Attach NETNS to NETWORK and print the result JSON."""
    from ctrnet._errors import CtrnetError
    from ctrnet.cni.spec import convert

    runtime, conf = _setup(network, kw.pop("cache_dir"))
    result = runtime.add(conf, _runtime_conf(netns, **kw))
    try:
        shown = convert(result, conf.cni_version).to_dict()
    except CtrnetError:  # e.g. no IP for a 0.2.0 list: the attachment exists, so show it as 1.x
        shown = result.to_dict()
    click.echo(json.dumps(shown, indent=4))


@cni.command(name="del")
@click.argument("network")
@click.argument("netns")
@_attachment_options
def delete(network: str, netns: str, **kw: Any) -> None:
    """Detach NETNS from NETWORK (idempotent)."""
    runtime, conf = _setup(network, kw.pop("cache_dir"))
    runtime.delete(conf, _runtime_conf(netns, **kw))


@cni.command()
@click.argument("network")
@click.argument("netns")
@_attachment_options
def check(network: str, netns: str, **kw: Any) -> None:
    """Check that NETNS's attachment to NETWORK is still as ADD left it."""
    runtime, conf = _setup(network, kw.pop("cache_dir"))
    runtime.check(conf, _runtime_conf(netns, **kw))


@cni.command()
@click.argument("network")
@click.argument("netns", required=False)
@_cache_option
def gc(network: str, netns: str | None, cache_dir: str | None) -> None:
    """Delete every cached attachment of NETWORK, then run GC (NETNS is ignored, as in cnitool)."""
    runtime, conf = _setup(network, cache_dir)
    runtime.gc(conf, None)


@cni.command()
@click.argument("network")
@click.argument("netns", required=False)
@_cache_option
def status(network: str, netns: str | None, cache_dir: str | None) -> None:
    """Ask NETWORK's plugins whether they are ready (NETNS is ignored)."""
    runtime, conf = _setup(network, cache_dir)
    runtime.status(conf)


@cni.command()
@click.argument("network")
@click.argument("netns", required=False)
def version(network: str, netns: str | None) -> None:
    """Print the VERSION reply of each plugin of NETWORK."""
    runtime, conf = _setup(network, None)
    echo_json({p.type: runtime.version_info(p.type) for p in conf.plugins})
