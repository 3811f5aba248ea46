"""The OCI hook path with plain runc: hooks in config.json set up and tear down the sandbox."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.rootfs import make_rootfs, write_bundle

pytestmark = pytest.mark.e2e

Ctrnet = Callable[..., subprocess.CompletedProcess[str]]


def _runc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runc", *args], capture_output=True, text=True, timeout=60, check=False)


def _wait_running(cid: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = _runc("state", cid)
        if state.returncode == 0 and json.loads(state.stdout)["status"] == "running":
            return
        time.sleep(0.1)
    raise AssertionError(f"container {cid} did not start")


def test_two_runc_containers_through_the_hooks_reach_each_other_by_name(
    no_leftovers: Callable[[], list[str]],
    sandbox_leftovers: Callable[[], list[str]],
    ctrnet: Ctrnet,
    rootfs: Path,
    tmp_path: Path,
    subnet: ipaddress.IPv4Network,
    prefix: str,
) -> None:
    started: list[str] = []
    try:
        for who in ("a", "b"):
            cid = f"{prefix}-h{who}"
            printed = ctrnet(
                "oci-hook", "--print-hooks", "--id", cid, "--name", f"{prefix}{who}",
                "--dns", "127.0.0.1",
            )  # fmt: skip
            assert printed.returncode == 0, printed.stderr
            extra = json.loads(printed.stdout)
            bundle = write_bundle(
                tmp_path / f"bundle-{who}",
                rootfs,
                ["httpd", "-f", "-p", "80", "-h", "/www"],
                extra={"hooks": extra["hooks"], "annotations": extra["annotations"]},
            )
            config = json.loads((bundle / "config.json").read_text())
            config["mounts"] += extra["mounts"]
            (bundle / "config.json").write_text(json.dumps(config))
            log = tmp_path / f"runc-{who}.log"
            with log.open("w") as err:  # a detached container keeps its stdio: no pipes
                run = subprocess.run(
                    ["runc", "run", "--detach", "--bundle", str(bundle), cid],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                    timeout=60, check=False,
                )  # fmt: skip
            assert run.returncode == 0, log.read_text()
            started.append(cid)
            _wait_running(cid)
        for here, there in (("a", "b"), ("b", "a")):
            request = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {prefix}{there} 80"
            got = _runc("exec", f"{prefix}-h{here}", "sh", "-c", request)
            assert got.stdout.endswith("\n\nhello from ctrnet\n"), got.stdout + got.stderr
        addr = _runc("exec", f"{prefix}-ha", "ip", "-4", "-o", "addr", "show", "eth0")
        assert str(subnet.network_address)[:-1] in addr.stdout  # the default network's subnet
    finally:
        for cid in reversed(started):
            deleted = _runc("delete", "--force", cid)  # runs the poststop hook
            assert deleted.returncode == 0, deleted.stderr
    assert not sandbox_leftovers()
    assert not list((Path(tmp_path) / "data" / "oci-hooks").glob("*"))


def test_merge_sets_a_runc_spec_bundle_up_for_the_hooks(
    no_leftovers: Callable[[], list[str]],
    sandbox_leftovers: Callable[[], list[str]],
    ctrnet: Ctrnet,
    tmp_path: Path,
    subnet: ipaddress.IPv4Network,
    prefix: str,
) -> None:
    bundle = tmp_path / "spec-bundle"
    bundle.mkdir()
    made = subprocess.run(["runc", "spec"], cwd=bundle, capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    config = json.loads((bundle / "config.json").read_text())
    make_rootfs(bundle / "rootfs")  # runc spec's root.path is "rootfs", relative to the bundle
    config["process"].update(terminal=False, args=["sleep", "60"], env=["PATH=/bin", "MINE=1"])
    (bundle / "config.json").write_text(json.dumps(config))
    cid = f"{prefix}-m"
    merged = ctrnet("oci-hook", "--merge", str(bundle), "--id", cid, "--hostname", f"{prefix}box",
                    "--dns", "127.0.0.1")  # fmt: skip
    assert merged.returncode == 0, merged.stderr
    assert json.loads((bundle / "config.json").read_text())["root"]["path"] == "rootfs"
    started = False
    try:
        with (tmp_path / "runc-m.log").open("w") as err:
            run = subprocess.run(
                ["runc", "run", "--detach", "--bundle", str(bundle), cid],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                timeout=60, check=False,
            )  # fmt: skip
        assert run.returncode == 0, (tmp_path / "runc-m.log").read_text()
        started = True
        _wait_running(cid)
        addr = _runc("exec", cid, "ip", "-4", "-o", "addr", "show", "eth0")
        assert str(subnet.network_address)[:-1] in addr.stdout, addr.stdout + addr.stderr
        seen = _runc("exec", cid, "sh", "-c", "hostname; cat /etc/hosts; echo $MINE")
        assert seen.stdout.startswith(f"{prefix}box\n"), seen.stdout + seen.stderr
        assert f"{prefix}box" in seen.stdout.split("\n", 1)[1]  # its own hosts entry
        assert seen.stdout.endswith("\n1\n")  # the user's own settings were kept
    finally:
        if started:
            deleted = _runc("delete", "--force", cid)  # runs the poststop hook
            assert deleted.returncode == 0, deleted.stderr
    assert not sandbox_leftovers()
    assert not list((tmp_path / "data" / "oci-hooks").glob("*"))
