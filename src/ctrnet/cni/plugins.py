"""Finding plugin binaries in ``CNI_PATH``, refusing any name that could reach outside it."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence

from ctrnet._errors import PluginNotFound, ValidationError

__all__ = ["check_plugin_type", "find_plugin"]


def check_plugin_type(plugin: str) -> None:
    """Refuse a plugin ``type`` that is not a bare file name (empty, a separator, ``..``, NUL)."""
    if not isinstance(plugin, str) or not plugin:
        raise ValidationError(
            "CNI plugin type is empty; set 'type' to a binary name", option="type"
        )
    if any(c in plugin for c in "/\\\0") or plugin in (".", ".."):
        raise ValidationError(
            f"CNI plugin type {plugin!r} is not a bare binary name; plugins are only run "
            "from the CNI_PATH directories",
            option="type",
            value=plugin,
        )


def find_plugin(plugin: str, paths: Sequence[str], extensions: Sequence[str] = ("",)) -> str:
    """The first ``<dir>/<plugin><ext>`` that is a regular file (libcni's FindInPath)."""
    check_plugin_type(plugin)
    for directory in paths:
        if not directory:
            continue
        for ext in extensions:
            candidate = os.path.join(directory, plugin + ext)
            try:
                if stat.S_ISREG(os.stat(candidate).st_mode):
                    return candidate
            except OSError:
                continue
    raise PluginNotFound(plugin, list(paths))
