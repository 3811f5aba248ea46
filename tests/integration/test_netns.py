"""The Linux namespace backend against the real kernel, checked with ``ip netns`` and mountinfo."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ctrnet._errors import ConflictError, PermissionDenied, ValidationError
from ctrnet._settings import Settings
from ctrnet.platform import namespace_backend
from ctrnet.platform._netns_linux import NetnsBackend, run_in_namespace

pytestmark = pytest.mark.root

NETNS_DIR = "/run/netns"


def mounted(path: str) -> bool:
    """Whether ``path`` is a mount point in this process's mount namespace."""
    with open("/proc/self/mountinfo") as fh:
        return any(line.split()[4] == path for line in fh)


def ip_netns_list() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


def lo_flags(name: str) -> str:
    out = subprocess.run(
        ["ip", "netns", "exec", name, "ip", "-o", "link", "show", "lo"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


@pytest.fixture
def backend(no_leftovers: Callable[[], list[str]], prefix: str) -> Iterator[NetnsBackend]:
    """The backend on /run/netns; whatever carries the prefix is removed at teardown."""
    yield NetnsBackend(NETNS_DIR)
    for name in os.listdir(NETNS_DIR):
        if name.startswith(prefix):
            with contextlib.suppress(subprocess.CalledProcessError):
                subprocess.run(["ip", "netns", "delete", name], check=True, capture_output=True)


def test_created_namespace_is_visible_to_ip_netns(backend: NetnsBackend, prefix: str) -> None:
    path = backend.create(f"{prefix}-a")
    assert path == f"{NETNS_DIR}/{prefix}-a"
    assert f"{prefix}-a" in ip_netns_list()
    assert backend.exists(path)
    assert mounted(path)
    run = subprocess.run(
        ["ip", "netns", "exec", f"{prefix}-a", "cat", "/proc/net/dev"],
        capture_output=True,
        text=True,
        check=True,
    )
    # a fresh namespace holds only lo
    devices = [line.split(":")[0].strip() for line in run.stdout.splitlines()[2:]]
    assert devices == ["lo"]


def test_namespace_is_not_the_host_namespace(backend: NetnsBackend, prefix: str) -> None:
    before = os.stat("/proc/thread-self/ns/net").st_ino
    path = backend.create(f"{prefix}-a")
    assert os.stat(path).st_ino != before
    # and creating it did not move the calling thread anywhere
    assert os.stat("/proc/thread-self/ns/net").st_ino == before


def test_set_loopback_up(backend: NetnsBackend, prefix: str) -> None:
    path = backend.create(f"{prefix}-a")
    assert ",UP" not in lo_flags(f"{prefix}-a")
    backend.set_loopback_up(path)
    assert ",UP" in lo_flags(f"{prefix}-a")
    backend.set_loopback_up(path)  # already up: still fine
    assert ",UP" in lo_flags(f"{prefix}-a")


def test_loopback_carries_traffic_inside_namespace(backend: NetnsBackend, prefix: str) -> None:
    path = backend.create(f"{prefix}-a")
    backend.set_loopback_up(path)

    def echo() -> bytes:
        with socket.socket() as srv, socket.socket() as cli:
            srv.bind(("127.0.0.1", 0))
            srv.listen(1)
            cli.connect(srv.getsockname())
            conn, _ = srv.accept()
            with conn:
                cli.sendall(b"ping")
                return conn.recv(4)

    assert run_in_namespace(path, echo) == b"ping"


def test_run_in_namespace_sees_only_the_namespaces_links(
    backend: NetnsBackend, prefix: str
) -> None:
    path = backend.create(f"{prefix}-a")
    names = run_in_namespace(path, lambda: [name for _, name in socket.if_nameindex()])
    assert names == ["lo"]
    assert len(socket.if_nameindex()) > 1  # the caller stayed in the host namespace


def test_run_in_namespace_reraises_errors(backend: NetnsBackend, prefix: str) -> None:
    path = backend.create(f"{prefix}-a")

    def boom() -> None:
        raise KeyError("inside")

    with pytest.raises(KeyError, match="inside"):
        run_in_namespace(path, boom)


def test_remove_leaves_nothing_and_is_idempotent(backend: NetnsBackend, prefix: str) -> None:
    path = backend.create(f"{prefix}-a")
    backend.remove(path)
    assert not os.path.exists(path)
    assert not mounted(path)
    assert f"{prefix}-a" not in ip_netns_list()
    assert not backend.exists(path)
    backend.remove(path)  # second time: nothing to do, no error


def test_ip_netns_and_backend_remove_each_others_namespaces(
    backend: NetnsBackend, prefix: str
) -> None:
    ours = backend.create(f"{prefix}-ours")
    subprocess.run(["ip", "netns", "delete", f"{prefix}-ours"], check=True)
    assert not os.path.exists(ours) and not mounted(ours)

    subprocess.run(["ip", "netns", "add", f"{prefix}-theirs"], check=True)
    theirs = f"{NETNS_DIR}/{prefix}-theirs"
    assert backend.exists(theirs)
    backend.remove(theirs)
    assert not os.path.exists(theirs) and not mounted(theirs)


def test_remove_reclaims_a_file_left_by_a_crashed_create(
    backend: NetnsBackend, prefix: str
) -> None:
    stale = Path(NETNS_DIR, f"{prefix}-stale")
    stale.touch()
    assert not backend.exists(str(stale))
    backend.remove(str(stale))
    assert not stale.exists()


def test_duplicate_name_is_a_conflict_and_keeps_the_first(
    backend: NetnsBackend, prefix: str
) -> None:
    path = backend.create(f"{prefix}-a")
    inode = os.stat(path).st_ino
    with pytest.raises(ConflictError, match=f"{prefix}-a already exists"):
        backend.create(f"{prefix}-a")
    assert backend.exists(path) and os.stat(path).st_ino == inode


def test_concurrent_creates_from_threads(backend: NetnsBackend, prefix: str) -> None:
    names = [f"{prefix}-c{i}" for i in range(12)]
    paths: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def make(name: str) -> None:
        try:
            made = backend.create(name)
        except BaseException as exc:
            with lock:
                errors.append(exc)
            return
        with lock:
            paths.append(made)

    threads = [threading.Thread(target=make, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(paths) == sorted(f"{NETNS_DIR}/{n}" for n in names)
    assert len({os.stat(p).st_ino for p in paths}) == len(names)  # all distinct namespaces
    listed = ip_netns_list()
    assert all(n in listed for n in names)
    for p in paths:
        backend.remove(p)
    assert not any(os.path.exists(p) or mounted(p) for p in paths)


@pytest.mark.parametrize(
    "bad", ["", ".", "..", "a/b", "../x", "x..y", "a b", "tab\tname", "nl\n", "nul\0x", "x" * 256]
)
def test_bad_names_are_refused_before_anything_is_created(
    tmp_path: Path, prefix: str, bad: str
) -> None:
    netns_dir = tmp_path / "netns"
    backend = NetnsBackend(str(netns_dir))
    with pytest.raises(ValidationError, match="invalid network namespace name"):
        backend.create(prefix + bad if bad not in ("", ".", "..") else bad)
    assert not netns_dir.exists()  # not even the directory was made
    assert not mounted(str(netns_dir))


def test_remove_refuses_paths_outside_the_namespace_dir(
    backend: NetnsBackend, tmp_path: Path
) -> None:
    victim = tmp_path / "keep-me"
    victim.write_text("data")
    with pytest.raises(ValidationError, match="not a namespace under /run/netns"):
        backend.remove(str(victim))
    assert victim.read_text() == "data"


def test_namespace_backend_uses_settings_dir(settings: Settings) -> None:
    backend = namespace_backend(settings.with_(netns_dir="/run/netns"))
    assert isinstance(backend, NetnsBackend)
    assert backend.netns_dir == "/run/netns"


def test_not_root_gets_permission_denied(
    no_leftovers: Callable[[], list[str]], prefix: str
) -> None:
    code = (
        "import sys\n"
        "from ctrnet._errors import PermissionDenied\n"
        "from ctrnet.platform._netns_linux import NetnsBackend\n"
        "try:\n"
        f"    NetnsBackend('/run/netns').create('{prefix}-nobody')\n"
        "except PermissionDenied as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        user=65534,
        group=65534,
        extra_groups=[],
        cwd="/",
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
    )
    assert out.stdout.startswith(PermissionDenied.__name__), out.stderr
    assert "run as root" in out.stdout
    assert not os.path.exists(f"{NETNS_DIR}/{prefix}-nobody")


def test_allocate_names_the_path_and_create_makes_it_only_there(
    backend: NetnsBackend, prefix: str
) -> None:
    name = f"{prefix}-al"
    planned = backend.allocate(name)
    assert planned == f"{NETNS_DIR}/{name}" and not os.path.exists(planned)
    with pytest.raises(ValidationError, match="not where"):
        backend.create(name, f"{NETNS_DIR}/{prefix}-elsewhere")
    assert not os.path.exists(planned) and not os.path.exists(f"{NETNS_DIR}/{prefix}-elsewhere")
    assert backend.create(name, planned) == planned
    assert mounted(planned)
    backend.remove(planned)
    assert not os.path.exists(planned)
