"""One implementation per networking mode (none, host, container, ns, cni)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctrnet._errors import CtrnetError

if TYPE_CHECKING:
    from ctrnet.manager.modes_impl.base import Context, ModeImpl

__all__ = ["impl_for"]


def impl_for(kind: str, ctx: Context) -> ModeImpl:
    """The implementation of mode ``kind`` bound to ``ctx``."""
    if kind == "cni":
        from ctrnet.manager.modes_impl.cni import CniMode

        return CniMode(ctx)
    if kind == "none":
        from ctrnet.manager.modes_impl.none import NoneMode

        return NoneMode(ctx)
    if kind == "host":
        from ctrnet.manager.modes_impl.host import HostMode

        return HostMode(ctx)
    if kind == "ns":
        from ctrnet.manager.modes_impl.ns import NsMode

        return NsMode(ctx)
    if kind == "container":
        from ctrnet.manager.modes_impl.container import ContainerMode

        return ContainerMode(ctx)
    raise CtrnetError(f"unexpected networking mode {kind!r} in a sandbox record")
