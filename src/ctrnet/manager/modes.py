"""Networking modes: what ``--network`` values mean, before and after verification.

``mode_of`` reads the raw values (``none``, ``host``, ``container:<id|name>``, ``ns:<path>`` or
CNI network references) and refuses mixtures; ``ctrnet.manager.rules.verify`` then resolves the
networks and decides which interface gets ``--ip`` / ``--ip6`` / ``--mac-address``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import Literal, Protocol

from ctrnet._errors import ValidationError

__all__ = ["MODE_KINDS", "Attachment", "Mode", "ModeKind", "NetworkLike", "mode_of"]

ModeKind = Literal["none", "host", "container", "ns", "cni"]
MODE_KINDS: tuple[ModeKind, ...] = ("none", "host", "container", "ns", "cni")
_HELP = "use one of: none, host, container:<id|name>, ns:<path>, or CNI network names"


class NetworkLike(Protocol):
    """What the rules read of a ``ctrnet.networks.Network``."""

    @property
    def name(self) -> str: ...
    @property
    def subnets(self) -> tuple[IPv4Network | IPv6Network, ...]: ...
    @property
    def first_plugin_type(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True, kw_only=True)
class Attachment:
    """One CNI network the sandbox joins, as interface ``ifname``, with its static values."""

    network: NetworkLike
    ifname: str
    ip: str | None = None
    ip6: str | None = None
    mac: str | None = None


@dataclass(frozen=True, kw_only=True)
class Mode:
    """The networking mode of a request.

    ``target`` is the container reference (``container``) or namespace path (``ns``);
    ``attachments`` (``cni`` only) are filled in by ``verify``; ``warnings`` name options that
    the mode accepts but does not use.
    """

    kind: ModeKind
    refs: tuple[str, ...] = ()
    target: str | None = None
    attachments: tuple[Attachment, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def network_names(self) -> tuple[str, ...]:
        """Names of the attached CNI networks, in interface order."""
        return tuple(a.network.name for a in self.attachments)

    def label_value(self) -> list[str]:
        """The ``nerdctl/networks`` list: network names (normalized), or the mode itself."""
        if self.kind == "cni":
            return list(self.network_names) or list(self.refs)
        if self.kind in ("container", "ns"):
            return [f"{self.kind}:{self.target}"]
        return [self.kind]


def mode_of(networks: Sequence[str], default_network: str = "bridge") -> Mode:
    """The mode that ``--network`` values ask for; empty means the default CNI network."""
    refs = tuple(dict.fromkeys(n.strip() for n in networks))
    if not refs:
        return Mode(kind="cni", refs=(default_network,))
    kinds: dict[ModeKind, list[str]] = {}
    for ref in refs:
        kinds.setdefault(_kind_of(ref), []).append(ref)
    if len(kinds) > 1:
        names = ", ".join(f"{k} ({' '.join(v)})" for k, v in kinds.items())
        raise ValidationError(
            f"mixed network modes: {names}; a sandbox uses exactly one mode: {_HELP}",
            option="--network",
            value=list(refs),
        )
    (kind,) = kinds
    if kind == "cni":
        return Mode(kind="cni", refs=refs)
    if len(refs) > 1:
        raise ValidationError(
            f"conflicting options: only one network specification is allowed with "
            f"--network={refs[0]}, got {' '.join(refs)}",
            option="--network",
            value=list(refs),
        )
    ref = refs[0]
    if kind in ("container", "ns"):
        target = ref.partition(":")[2].strip()
        if not target:
            form = "container:<id|name>" if kind == "container" else "ns:<path>"
            raise ValidationError(
                f"{kind} networking argument format must be {form!r}, got: {ref!r}",
                option="--network",
                value=ref,
            )
        return Mode(kind=kind, refs=refs, target=target)
    return Mode(kind=kind, refs=refs)


def _kind_of(ref: str) -> ModeKind:
    if ref in ("none", "host"):
        return ref  # type: ignore[return-value]
    head, sep, _ = ref.partition(":")
    if not sep:
        return "cni"
    if head in ("container", "ns"):
        return head  # type: ignore[return-value]
    raise ValidationError(
        f"invalid --network {ref!r}: unknown mode {head!r}; {_HELP}", option="--network", value=ref
    )
