"""What a platform is: the facts record every layer reads, and the namespace backend protocol."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ctrnet._errors import UnsupportedOption

__all__ = ["AllocatingNamespaceBackend", "NamespaceBackend", "Platform"]


@dataclass(frozen=True, kw_only=True)
class Platform:
    """Per-OS facts as pure data: defaults, what is allowed, and the exact refusal messages."""

    name: str
    #: human spelling used in messages ("Linux", "Windows")
    display_name: str
    default_network: str
    default_driver: str
    drivers: tuple[str, ...]
    ipam_drivers: tuple[str, ...]
    default_conf_dir: str
    default_cni_path: tuple[str, ...]
    default_cache_dir: str
    default_data_root: str
    #: where named namespaces live; empty where namespaces are not files (Windows: GUIDs)
    default_netns_dir: str
    default_subnet: str
    #: bridge device of the default network; empty where the driver has none
    default_bridge: str
    #: first candidate of automatically allocated subnets for other networks
    starting_subnet: str
    #: interface names inside the sandbox are ``<prefix>0``, ``<prefix>1``, ...
    ifname_prefix: str
    #: tried in order after a plugin name when searching CNI_PATH (libcni's ExecutableFileExtensions)
    exec_extensions: tuple[str, ...]
    #: networking modes the manager accepts ("none", "host", "container", "ns", "cni")
    allowed_modes: tuple[str, ...]
    #: mode -> the error message used when the mode is refused on this platform
    refused_modes: Mapping[str, str] = field(default_factory=dict)
    #: flags refused with one error on this platform, in the stable order the message lists them
    unsupported_network_args: tuple[str, ...] = ()
    #: first-plugin types a CNI network must have to be usable here; empty means any
    network_plugin_types: tuple[str, ...] = ()
    #: first-plugin types for which ``--mac-address`` works; empty means MAC is refused
    mac_address_plugin_types: tuple[str, ...] = ()

    def mode_allowed(self, mode: str) -> bool:
        """Whether a networking mode ("none", "host", "container", "ns", "cni") works here."""
        return mode in self.allowed_modes

    def refused_mode_message(self, mode: str) -> str:
        """The message for a refused mode (nerdctl's wording where it has one)."""
        return self.refused_modes.get(
            mode, f"network mode {mode!r} is not supported on {self.display_name}"
        )

    def unsupported_args(self, given: Iterable[str]) -> list[str]:
        """The refused flags among ``given``, in this platform's stable order, without repeats."""
        wanted = set(given)
        return [arg for arg in self.unsupported_network_args if arg in wanted]

    def unsupported_args_error(self, given: Iterable[str]) -> UnsupportedOption | None:
        """One error naming every refused flag that was given, or None when all are fine.

        nerdctl prints the flags in random (map) order; here they follow
        :attr:`unsupported_network_args`, so the message is the same on every run.
        """
        refused = self.unsupported_args(given)
        if not refused:
            return None
        return UnsupportedOption(
            f"the following networking arguments are not supported on {self.display_name}: "
            f"[{' '.join(refused)}]",
            option=refused[0],
            value=refused,
            platform=self.name,
        )


class NamespaceBackend(Protocol):
    """Creates and removes the network namespace a sandbox's interfaces live in."""

    def create(self, name: str) -> str:
        """Make a new namespace; returns its path (Linux) or GUID (Windows)."""
        ...

    def remove(self, path: str) -> None:
        """Remove the namespace; a namespace that is already gone is fine."""
        ...

    def exists(self, path: str) -> bool:
        """Whether the namespace is still there."""
        ...

    def set_loopback_up(self, path: str) -> None:
        """Bring ``lo`` up inside the namespace (Linux); a no-op where there is no ``lo``."""
        ...


@runtime_checkable
class AllocatingNamespaceBackend(NamespaceBackend, Protocol):
    """A backend that names a namespace before creating it, so the name can be recorded first.

    ``allocate`` picks the path (Linux) or GUID (Windows) and creates nothing; ``create(name,
    path)`` then makes the namespace exactly there. A crash between the two leaves a record
    naming a namespace that may exist, which cleanup removes (``remove`` is idempotent).
    """

    def allocate(self, name: str) -> str:
        """The path or GUID a namespace for ``name`` will get; nothing is created."""
        ...

    def create(self, name: str, path: str | None = None) -> str:
        """Make the namespace, at ``path`` (from :meth:`allocate`) when given."""
        ...
