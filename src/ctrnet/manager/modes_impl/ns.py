"""ns:<path> mode: join a namespace someone else made; ctrnet never removes it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ctrnet._errors import ValidationError
from ctrnet.manager.modes_impl import files
from ctrnet.manager.modes_impl.base import ModeImpl
from ctrnet.manager.records import SandboxRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from ctrnet.manager.modes import Mode
    from ctrnet.manager.options import NetworkOptions

__all__ = ["NsMode"]


class NsMode(ModeImpl):
    """``--network ns:<path>``: an existing namespace; files as in none mode."""

    kind = "ns"

    def verify(self, opts: NetworkOptions, mode: Mode) -> None:
        path = mode.target or ""
        if not os.path.isabs(path) or not self.ctx.backend.exists(path):
            raise ValidationError(
                f"--network ns:{path}: {path!r} is not an existing network namespace; "
                "give the absolute path of one (e.g. /run/netns/NAME)",
                option="--network",
                value=f"ns:{path}",
            )

    def plan(self, record: SandboxRecord, opts: NetworkOptions, mode: Mode) -> None:
        record.netns = os.path.abspath(mode.target or "")
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
