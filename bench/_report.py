"""The suite's one table on stdout, rendered from the same dict that is written as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["render"]


def _ms(x: Any) -> str:
    return "-" if x is None else f"{x:.1f}"


def _x(x: Any) -> str:
    return "-" if x is None else f"{x:.2f}x"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in rows]
    return lines


def render(figures: dict[str, Any]) -> str:
    """One text table per scenario present in ``figures``."""
    out: list[str] = []
    meta = figures.get("meta", {})
    out.append(
        f"ctrnet bench  {meta.get('started', '')}  load {meta.get('loadavg', '')}  "
        f"cores {meta.get('cores', '')}  command: {meta.get('command', '')}"
    )
    single = figures.get("single")
    if single:
        out.append("")
        out.append(
            f"One sandbox, default bridge network, one published port "
            f"({single.get('rounds')} interleaved rounds; ms)"
        )
        rows = []
        for key, s in single["setup"].items():
            t = single["teardown"][key]
            rows.append(
                [
                    s["label"],
                    _ms(s.get("median_ms")),
                    _ms(s.get("p90_ms")),
                    _x(s.get("x_direct")),
                    _x(s.get("x_netavark")),
                    _ms(t.get("median_ms")),
                    _ms(t.get("p90_ms")),
                    _x(t.get("x_direct")),
                    _x(t.get("x_netavark")),
                ]
            )
        header = ["variant", "up med", "up p90", "up/direct", "up/netavark"]
        header += ["down med", "down p90", "down/direct", "down/netavark"]
        out += _table(header, rows)
        paired = [
            f"{s['label']} up {_x(s.get('x_direct_paired'))} down "
            f"{_x(single['teardown'][key].get('x_direct_paired'))}"
            for key, s in single["setup"].items()
            if key != "direct" and s.get("x_direct_paired") is not None
        ]
        if paired:
            out.append("median of per-round ratios vs direct: " + "; ".join(paired))
    conc = figures.get("concurrency")
    if conc:
        out.append("")
        out.append("Many sandboxes: all at once vs one after another (wall ms; sandboxes/s)")
        rows = []
        for entry in conc["runs"]:
            rows.append(
                [
                    entry["label"],
                    str(entry["n"]),
                    entry["mode"],
                    _ms(entry["setup_ms"]),
                    f"{entry['setup_per_s']:.1f}",
                    _ms(entry["teardown_ms"]),
                    f"{entry['teardown_per_s']:.1f}",
                    str(entry["errors"]),
                    str(entry["duplicate_ips"]),
                ]
            )
        header = ["variant", "N", "mode", "up wall", "up/s", "down wall", "down/s", "errors"]
        out += _table([*header, "dup IPs"], rows)
        errs = [e for entry in conc["runs"] for e in entry.get("error_messages", [])]
        for e in errs[:5]:
            out.append(f"  error: {e}")
    cold = figures.get("coldstart")
    if cold:
        out.append("")
        out.append(f"Cold start ({cold.get('runs')} runs each; ms, peak RSS MiB)")
        rows = [
            [
                c["label"],
                _ms(c.get("median_ms")),
                _ms(c.get("p90_ms")),
                f"{c.get('peak_rss_mib', 0):.1f}",
            ]
            for c in cold["commands"]
        ]
        out += _table(["command", "median", "p90", "peak RSS"], rows)
    profile = figures.get("profile")
    if profile:
        out.append("")
        out.append(
            "Where ctrnet spends time beyond the plugins (library setup+teardown, ms/sandbox)"
        )
        out += _table(
            ["part", "ms"], [[k, _ms(v)] for k, v in profile.get("breakdown_ms", {}).items()]
        )
    leaks = figures.get("leaks")
    if leaks is not None:
        out.append("")
        out.append("Leak checks: " + ("nothing left behind" if not leaks else f"LEFT: {leaks}"))
    return "\n".join(out)
