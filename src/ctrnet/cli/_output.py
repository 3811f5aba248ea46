"""Table and JSON output in the docker/nerdctl style."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click

__all__ = ["FORMAT_OPTION", "echo_json", "echo_table"]

FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON."""
    click.echo(json.dumps(data, indent=2, sort_keys=False))


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows as a left-aligned table with a header line, column widths fitted to the data."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        line = "   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row))
        click.echo(line.rstrip())


def jsonable(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy safe to dump (sets and tuples become lists)."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        out[key] = sorted(value) if isinstance(value, set | frozenset) else value
    return out
