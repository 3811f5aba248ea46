"""Install the test CNI plugin (``plugin.py``) under any name, runnable by this interpreter."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

SOURCE = Path(__file__).with_name("plugin.py")


def install(
    directory: str | os.PathLike[str],
    name: str,
    supported: Sequence[str] | None = None,
    *,
    version_error: dict[str, object] | None = None,
) -> Path:
    """Write the plugin as ``<directory>/<name>`` with this Python in its shebang.

    ``supported`` sets its VERSION reply; ``version_error`` makes VERSION fail with that object.
    """
    text = SOURCE.read_text()
    body = text.split("\n", 1)[1]
    installed: dict[str, object] | None = None
    if supported is not None:
        installed = {"supportedVersions": list(supported)}
    if version_error is not None:
        installed = {"error": version_error}
    if installed is not None:
        line = next(ln for ln in body.splitlines() if ln.startswith("INSTALLED = "))
        body = body.replace(line, f"INSTALLED = {json.dumps(installed)}")
    target = Path(directory, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{name}.tmp")
    tmp.write_text(f"#!{sys.executable}\n{body}")
    tmp.chmod(0o755)
    tmp.replace(target)
    return target
