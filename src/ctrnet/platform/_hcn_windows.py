"""Windows HCN namespaces through computenetwork.dll (work in progress)."""

from __future__ import annotations

from ctrnet._errors import SystemError_

__all__ = ["HcnNamespaceBackend"]


class HcnNamespaceBackend:
    """HCN namespaces, identified by GUID."""

    def _unavailable(self) -> SystemError_:
        return SystemError_("the Windows HCN namespace backend is not available yet")

    def create(self, name: str) -> str:
        raise self._unavailable()

    def remove(self, path: str) -> None:
        raise self._unavailable()

    def exists(self, path: str) -> bool:
        raise self._unavailable()

    def set_loopback_up(self, path: str) -> None:
        return None
