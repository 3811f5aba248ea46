"""The hook's fast entry: ``ctrnet oci-hook EVENT`` runs without click, errors as the CLI's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctrnet.cli._hookentry import hook_event

# runs ctrnet's main as runc does, then reports the exit code and whether click was imported
_PROBE = """
import sys
from ctrnet.cli import main
try:
    main(sys.argv[1:])
    code = 0
except SystemExit as exc:
    code = exc.code
print("click" in sys.modules, code)
"""


def _hook(tmp_path: Path, stdin: bytes, *args: str) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNI_", "CTRNET_"))}
    env.update(
        NETCONFPATH=str(tmp_path / "net.d"),
        CNI_CACHEDIR=str(tmp_path / "cache"),
        CTRNET_DATA_ROOT=str(tmp_path / "data"),
    )
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        input=stdin,
        capture_output=True,
        env=env,
        check=False,
    )
    return proc.stdout.decode().strip(), proc.stderr.decode()


@pytest.mark.parametrize(
    ("args", "event"),
    [
        (["oci-hook", "createRuntime"], "createRuntime"),
        (["oci-hook", "CREATERUNTIME"], "createRuntime"),
        (["oci-hook", "poststop"], "poststop"),
        (["oci-hook", "prestart"], None),  # left to click, which names the bad event
        (["oci-hook", "--print-hooks"], None),
        (["--data-root", "/x", "oci-hook", "poststop"], None),  # global flags: click path
        (["oci-hook"], None),
    ],
)
def test_only_a_bare_hook_call_takes_the_fast_path(args: list[str], event: str | None) -> None:
    assert hook_event(args) == event


def test_poststop_runs_without_click(tmp_path: Path) -> None:
    state = json.dumps({"id": "c1", "annotations": {"ctrnet/sandbox-id": "c1"}}).encode()
    out, err = _hook(tmp_path, state, "oci-hook", "poststop")
    assert out == "False 0", err  # an unknown sandbox: poststop is a no-op


def test_fast_path_errors_print_like_the_cli(tmp_path: Path) -> None:
    out, err = _hook(tmp_path, b"not json", "oci-hook", "createRuntime")
    assert out == "False 2"
    assert err.startswith("Error: OCI state on stdin is not JSON")
    assert "Traceback" not in err
    assert not (tmp_path / "data").exists()  # bad input changed nothing


def test_unknown_event_still_gets_the_cli_message(tmp_path: Path) -> None:
    out, err = _hook(tmp_path, b"{}", "oci-hook", "prestart")
    assert out.split() == ["True", "2"]
    assert "unknown hook event 'prestart'; use createRuntime or poststop" in err
