"""container:<id|name> mode: share another sandbox's namespace and files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctrnet._errors import AmbiguousReference, ValidationError
from ctrnet.manager.modes_impl.base import ModeImpl
from ctrnet.manager.records import SandboxRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from ctrnet.manager.modes import Mode
    from ctrnet.manager.options import NetworkOptions

__all__ = ["ContainerMode"]

#: how many container-mode hops are followed to the sandbox that owns the namespace
_MAX_HOPS = 16


class ContainerMode(ModeImpl):
    """``--network container:<id|name>``: nothing is created; cleanup only drops the record."""

    kind = "container"

    def resolve(self, ref: str) -> SandboxRecord:
        """The ready sandbox that owns the namespace ``ref`` names (following container chains)."""
        store = self.ctx.store
        records = store.all()
        seen: list[str] = []
        current = ref
        for _ in range(_MAX_HOPS):
            target = _find(records, current)
            if target is None:
                raise ValidationError(
                    f"container networking: could not find sandbox {current!r}"
                    + (f" (reached from {' -> '.join(seen)})" if seen else "")
                    + "; set it up first or name an existing sandbox",
                    option="--network",
                    value=f"container:{ref}",
                )
            if target.state != "ready":
                raise ValidationError(
                    f"invalid target sandbox {target.id!r}: it is {target.state}, not ready",
                    option="--network",
                    value=f"container:{ref}",
                )
            if target.mode != "container":
                return target
            seen.append(target.id)
            current = target.target
        raise ValidationError(
            f"container networking: too many container:<id> hops from {ref!r}",
            option="--network",
            value=f"container:{ref}",
        )

    def verify(self, opts: NetworkOptions, mode: Mode) -> None:
        target = self.resolve(mode.target or "")
        if target.netns and target.netns_owned and not self.ctx.backend.exists(target.netns):
            raise ValidationError(
                f"invalid target sandbox {target.id!r}: its namespace {target.netns} is gone; "
                "tear it down and set it up again",
                option="--network",
                value=f"container:{mode.target}",
            )

    def plan(self, record: SandboxRecord, opts: NetworkOptions, mode: Mode) -> None:
        target = self.resolve(mode.target or "")
        if target.id == record.id:
            raise ValidationError(
                f"sandbox {record.id!r} cannot join its own namespace",
                option="--network",
                value=f"container:{mode.target}",
            )
        record.target = target.id
        record.netns = target.netns
        record.netns_owned = False
        record.hostname = "" if opts.uts == "host" else target.hostname
        record.domainname = target.domainname
        record.uts = opts.uts
        record.hosts_path = target.hosts_path
        record.resolv_conf_path = target.resolv_conf_path
        record.hostname_path = "" if opts.uts == "host" else target.hostname_path

    def setup(
        self,
        record: SandboxRecord,
        opts: NetworkOptions,
        mode: Mode,
        record_on_disk: Callable[[], None],
    ) -> None:
        return None

    def cleanup(self, record: SandboxRecord) -> list[BaseException]:
        return []


def _find(records: list[SandboxRecord], ref: str) -> SandboxRecord | None:
    exact = [r for r in records if r.id == ref]
    if exact:
        return exact[0]
    named = [r for r in records if r.name and r.name == ref]
    if named:
        return named[0]
    prefixed = [r for r in records if ref and r.id.startswith(ref)]
    if len(prefixed) > 1:
        raise AmbiguousReference("sandbox", ref, [r.id for r in prefixed])
    return prefixed[0] if prefixed else None
