"""The root command group: global flags, lazily loaded subcommands, error rendering."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

from ctrnet._errors import CtrnetError
from ctrnet._settings import Settings
from ctrnet._version import __version__

#: command name -> "module:attribute"; modules are imported only when their command runs
COMMANDS: dict[str, str] = {
    "cni": "ctrnet.cli.cni:cni",
    "network": "ctrnet.cli.network:network",
    "verify": "ctrnet.cli.verify:verify",
    "setup": "ctrnet.cli.sandbox:setup",
    "teardown": "ctrnet.cli.sandbox:teardown",
    "ps": "ctrnet.cli.sandbox:ps",
    "inspect": "ctrnet.cli.sandbox:inspect",
    "port": "ctrnet.cli.sandbox:port",
    "oci-spec": "ctrnet.cli.sandbox:oci_spec",
    "run": "ctrnet.cli.run:run",
    "oci-hook": "ctrnet.cli.ocihook:oci_hook",
    "doctor": "ctrnet.cli.doctor:doctor",
    "gc": "ctrnet.cli.gc:gc",
}


@dataclass
class CliState:
    """What the root group hands to every subcommand (``click.get_current_context().obj``)."""

    settings: Settings
    format: str = "table"


class LazyGroup(click.Group):
    """A group whose subcommands live in their own modules and load on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", message="ctrnet version %(version)s")
@click.option(
    "--cni-netconfpath",
    envvar="NETCONFPATH",
    default=None,
    metavar="DIR",
    help="CNI config directory [env NETCONFPATH; default /etc/cni/net.d]",
)
@click.option(
    "--cni-path",
    envvar="CNI_PATH",
    default=None,
    metavar="PATHS",
    help="CNI plugin directories, colon separated [env CNI_PATH; default /opt/cni/bin:/usr/lib/cni]",
)
@click.option(
    "--cni-cachedir",
    envvar="CNI_CACHEDIR",
    default=None,
    metavar="DIR",
    help="CNI result cache directory [env CNI_CACHEDIR; default /var/lib/cni]",
)
@click.option(
    "--data-root",
    envvar="CTRNET_DATA_ROOT",
    default=None,
    metavar="DIR",
    help="ctrnet state directory [env CTRNET_DATA_ROOT; default /var/lib/ctrnet]",
)
@click.pass_context
def cli(
    ctx: click.Context,
    cni_netconfpath: str | None,
    cni_path: str | None,
    cni_cachedir: str | None,
    data_root: str | None,
) -> None:
    """ctrnet: container networking on CNI, nerdctl-style."""
    ctx.obj = CliState(
        settings=Settings.from_env(
            conf_dir=cni_netconfpath,
            cni_path=cni_path,
            cache_dir=cni_cachedir,
            data_root=data_root,
        )
    )


def state() -> CliState:
    """The current :class:`CliState` (call from inside a subcommand)."""
    obj = click.get_current_context().find_root().obj
    assert isinstance(obj, CliState)
    return obj


def print_error(exc: CtrnetError, fmt: str) -> None:
    """Print one error the way docker/nerdctl do: ``Error: ...`` on stderr, or JSON."""
    notes = [str(n) for n in getattr(exc, "__notes__", ())]
    if fmt == "json":
        data = exc.to_dict()
        if notes:
            data["notes"] = notes
        sys.stderr.write(json.dumps(data) + "\n")
    else:
        sys.stderr.write(f"Error: {exc}\n")
        for note in notes:  # e.g. what a rollback could not undo
            sys.stderr.write(f"  note: {note}\n")


def run(args: Sequence[str]) -> None:
    """Run the CLI; a :class:`CtrnetError` becomes a message and its exit code, never a traceback."""
    fmt = "json" if _wants_json(args) else "table"
    try:
        cli.main(args=list(args), prog_name="ctrnet", standalone_mode=False)
    except CtrnetError as exc:
        print_error(exc, fmt)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.stderr.write("Aborted.\n")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(_last_exit_code())


def _wants_json(args: Sequence[str]) -> bool:
    for i, arg in enumerate(args):
        if arg == "--":
            return False
        if arg in ("--format=json", "--format={{json .}}"):
            return True
        if arg == "--format" and i + 1 < len(args) and args[i + 1] == "json":
            return True
    return False


_EXIT: dict[str, Any] = {"code": 0}


def set_exit_code(code: int) -> None:
    """Let a command that already printed its output end with a non-zero status."""
    _EXIT["code"] = code


def _last_exit_code() -> int:
    return int(_EXIT["code"])
