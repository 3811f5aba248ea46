"""The root command: version fast path, help, error rendering."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ctrnet._errors import MultipleErrors, NetworkNotFound, PluginError
from ctrnet.cli._app import print_error


def ctrnet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctrnet", *args], capture_output=True, text=True, check=False
    )


def test_version_prints_and_imports_nothing_heavy() -> None:
    code = (
        "import sys; from ctrnet.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit: pass\n"
        "print('click' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["ctrnet version 0.1.0", "False"]


def test_unknown_command_is_a_usage_error() -> None:
    res = ctrnet("no-such-command")
    assert res.returncode == 2
    assert "No such command" in res.stderr


def test_error_rendering_plain_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    print_error(NetworkNotFound("foo"), "table")
    assert capsys.readouterr().err == "Error: network 'foo' not found\n"
    err = PluginError("no IP", plugin="bridge", network="n1", command="ADD", code=11)
    print_error(err, "json")
    data = json.loads(capsys.readouterr().err)
    assert data["plugin"] == "bridge" and data["code"] == 11
    assert data["error"] == "plugin 'bridge' network 'n1' failed (ADD): no IP [CNI code 11]"


def test_multiple_errors_flatten_and_keep_exit_code() -> None:
    inner = MultipleErrors([NetworkNotFound("a"), NetworkNotFound("b")])
    outer = MultipleErrors([inner, NetworkNotFound("c")], "teardown")
    assert len(outer.errors) == 3
    assert outer.exit_code == 3
    assert str(outer).startswith("teardown: 3 error(s):")


def test_error_notes_are_printed_after_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    err = PluginError("no IP", plugin="bridge", network="n1", command="ADD")
    err.add_note("while rolling back sandbox 's1': plugin 'portmap' failed (DEL): boom")
    print_error(err, "table")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("Error: plugin 'bridge' network 'n1' failed (ADD): no IP")
    assert (
        lines[1] == "  note: while rolling back sandbox 's1': plugin 'portmap' failed (DEL): boom"
    )
    print_error(err, "json")
    assert json.loads(capsys.readouterr().err)["notes"] == [
        "while rolling back sandbox 's1': plugin 'portmap' failed (DEL): boom"
    ]
