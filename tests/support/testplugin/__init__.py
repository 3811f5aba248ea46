"""Install the test CNI plugin (``plugin.py``) under any name, runnable by this interpreter."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

SOURCE = Path(__file__).with_name("plugin.py")


def install(
    directory: str | os.PathLike[str], name: str, supported: Sequence[str] | None = None
) -> Path:
    """Write the plugin as ``<directory>/<name>`` with this Python in its shebang."""
    text = SOURCE.read_text()
    body = text.split("\n", 1)[1]
    if supported is not None:
        line = next(ln for ln in body.splitlines() if ln.startswith("INSTALLED = "))
        body = body.replace(
            line, f"INSTALLED = {json.dumps({'supportedVersions': list(supported)})}"
        )
    target = Path(directory, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{name}.tmp")
    tmp.write_text(f"#!{sys.executable}\n{body}")
    tmp.chmod(0o755)
    tmp.replace(target)
    return target
