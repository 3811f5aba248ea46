"""host mode: the host's namespace; private copies of the host's files (never the host's own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctrnet.manager.modes_impl import files
from ctrnet.manager.modes_impl.base import ModeImpl
from ctrnet.manager.records import SandboxRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from ctrnet.manager.modes import Mode
    from ctrnet.manager.options import NetworkOptions

__all__ = ["HostMode"]


class HostMode(ModeImpl):
    """``--network host``: no namespace and no CNI; hosts/resolv.conf start from the host's."""

    kind = "host"

    def plan(self, record: SandboxRecord, opts: NetworkOptions, mode: Mode) -> None:
        record.netns = ""
        record.netns_owned = False
        files.plan(self.ctx, record, opts)

    def setup(
        self,
        record: SandboxRecord,
        opts: NetworkOptions,
        mode: Mode,
        record_on_disk: Callable[[], None],
    ) -> None:
        files.write(self.ctx, record, opts)

    def cleanup(self, record: SandboxRecord) -> list[BaseException]:
        return []
