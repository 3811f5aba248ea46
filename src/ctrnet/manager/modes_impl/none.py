"""none mode: a namespace of our own with only ``lo``, plus the container files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctrnet.manager.modes_impl import files
from ctrnet.manager.modes_impl.base import ModeImpl
from ctrnet.manager.records import SandboxRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from ctrnet.manager.modes import Mode
    from ctrnet.manager.options import NetworkOptions

__all__ = ["NoneMode"]


class NoneMode(ModeImpl):
    """``--network none``: isolated, loopback only."""

    kind = "none"

    def plan(self, record: SandboxRecord, opts: NetworkOptions, mode: Mode) -> None:
        record.netns = self.ctx.planned_netns_path(record.id)
        record.netns_owned = True
        files.plan(self.ctx, record, opts)

    def setup(
        self,
        record: SandboxRecord,
        opts: NetworkOptions,
        mode: Mode,
        record_on_disk: Callable[[], None],
    ) -> None:
        path = self.ctx.backend.create(self.ctx.netns_name(record.id))
        if path != record.netns:
            record.netns = path
            self.ctx.store.save(record)
        self.ctx.backend.set_loopback_up(path)
        files.write(self.ctx, record, opts)

    def cleanup(self, record: SandboxRecord) -> list[BaseException]:
        return self.ctx.remove_owned_netns(record)
