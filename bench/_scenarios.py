"""Runs the chosen scenarios with the chosen variants and collects the figures in one dict."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from _host import BenchError, Workspace
from _single import run_single
from _variants import NETAVARK, DirectVariant, NetavarkVariant, Variant

__all__ = ["make_variants", "run_all"]


def make_variants(ws: Workspace, keys: list[str], log: Callable[[str], None]) -> list[Variant]:
    """The variants in ``keys`` order that can run here; the others are reported and skipped."""
    classes: dict[str, Callable[[Workspace], Variant]] = {
        "direct": DirectVariant,
        "netavark": NetavarkVariant,
    }
    try:
        from _ctrnet import CliVariant, LibraryVariant

        classes["library"] = LibraryVariant
        classes["cli"] = CliVariant
    except ImportError as exc:
        log(f"ctrnet variants unavailable ({exc}); measuring the others")
    if not os.access(NETAVARK, os.X_OK):
        log(f"netavark not installed at {NETAVARK}; measuring the others")
        classes.pop("netavark")
    out = []
    for key in keys:
        if key in classes:
            out.append(classes[key](ws))
        else:
            log(f"variant {key!r} skipped: not available in this tree")
    return out


def run_all(
    ws: Workspace, args: argparse.Namespace, figures: dict[str, Any], log: Callable[[str], None]
) -> None:
    """Run every scenario in ``args.only``; always remove what was made and check for leaks."""
    variants = make_variants(ws, args.variants, log)
    subnets = [v.network.subnet for v in variants]
    try:
        for v in variants:
            v.prepare()
        if "single" in args.only:
            log(f"single sandbox: {args.rounds} rounds x {[v.key for v in variants]}")
            figures["single"] = {
                "rounds": args.rounds,
                "warmup": args.warmup,
                **run_single(variants, rounds=args.rounds, warmup=args.warmup, log=log),
            }
        if "concurrency" in args.only:
            from _concurrency import run_concurrency

            figures["concurrency"] = run_concurrency(
                variants, sizes=args.concurrency, rounds=args.conc_rounds, log=log
            )
        if "coldstart" in args.only:
            from _coldstart import run_coldstart

            figures["coldstart"] = run_coldstart(ws, runs=args.coldstart_runs, log=log)
        if "profile" in args.only:
            from _profile import run_profile

            prof = run_profile(ws, variants, log=log)
            if prof:
                figures["profile"] = prof
    finally:
        for v in variants:
            try:
                v.close()
            except Exception as exc:  # keep closing the others, then report
                log(f"closing {v.label} failed: {exc}")
        leaks = ws.run_leaks(subnets)
        figures["leaks"] = leaks.items
        if leaks.items:
            log("LEAK: " + "; ".join(leaks.items[:10]))
    if figures["leaks"]:
        raise BenchError(f"the run left {len(figures['leaks'])} resources behind")
