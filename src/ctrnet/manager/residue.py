"""What an attachment can leave on the host when its DEL never ran, found by its owner alone.

The plugins leave, per ``(network, container ID)``:

- bridge ``ipMasq``: a nat chain ``CNI-<sha512(network + id)[:24]>`` and a ``POSTROUTING`` jump to
  it, both commented ``name: "<network>" id: "<id>"`` (left when DEL ran without the namespace);
- portmap: a nat chain ``CNI-DN-<same hash[:21]>`` and a ``CNI-HOSTPORT-DNAT`` jump commented
  ``dnat name: "<network>" id: "<id>"`` (left when DEL ran without the port mappings);
- firewall: ``CNI-FORWARD`` rules ``-s <ip>`` and ``-d <ip> ... RELATED,ESTABLISHED``, with no
  comment (left when DEL ran without the ADD result): they are attributed by the address alone;
- host-local: lease files ``<dataDir>/<network>/<ip>`` holding ``<id>\\r\\n<ifname>``.

Nothing here decides *whose* residue it is: callers pass the owners they have attributed.
Rules are deleted one by one with ``iptables -w -D``; chains are emptied that way and then
removed with ``-X``; no table or chain is ever flushed.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ctrnet._errors import PermissionDenied, SystemError_
from ctrnet._fs import file_lock

__all__ = [
    "LEASE_ROOT",
    "Lease",
    "Rule",
    "RuleTable",
    "dnat_chain",
    "lease_dir",
    "leases_in",
    "masq_chain",
    "release_lease",
    "result_ips",
]

#: host-local's lease directory when the config sets no ``dataDir``
LEASE_ROOT = "/var/lib/cni/networks"
TOOLS = ("iptables", "ip6tables")
TABLES = ("nat", "filter")
_OWNER = re.compile(r'(?:^|\s)(?:dnat )?name: "(?P<net>[^"]*)" id: "(?P<id>[^"]*)"')
_GONE = ("does a matching rule exist", "no chain/target/match by that name", "no such file")


def _hash(network: str, container_id: str) -> str:
    return hashlib.sha512((network + container_id).encode()).hexdigest()


def masq_chain(network: str, container_id: str) -> str:
    """The bridge plugin's per-container masquerade chain (``utils.FormatChainName``)."""
    return "CNI-" + _hash(network, container_id)[:24]


def dnat_chain(network: str, container_id: str) -> str:
    """portmap's per-container DNAT chain."""
    return "CNI-DN-" + _hash(network, container_id)[:21]


# --- iptables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One rule as ``iptables -S`` prints it, split into its chain and match/target tokens."""

    tool: str
    table: str
    chain: str
    spec: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.tool} -t {self.table} -A {self.chain} {shlex.join(self.spec)}"

    def owner(self) -> tuple[str, str] | None:
        """``(network, container id)`` from a plugin's comment, if the rule carries one."""
        for i, token in enumerate(self.spec[:-1]):
            if token == "--comment":
                match = _OWNER.search(self.spec[i + 1])
                if match:
                    return match["net"], match["id"]
        return None

    def value(self, flag: str) -> str | None:
        for i, token in enumerate(self.spec[:-1]):
            if token == flag:
                return self.spec[i + 1]
        return None


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _failed(what: str, proc: subprocess.CompletedProcess[str]) -> SystemError_:
    err = proc.stderr.strip()
    if "Permission denied" in err or "not permitted" in err:
        return PermissionDenied(what)
    return SystemError_(f"{what} failed: {err or f'exit status {proc.returncode}'}")


class RuleTable:
    """A snapshot of the nat and filter tables (IPv4 and IPv6) and the deletions made from it."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.chains: set[tuple[str, str, str]] = set()
        for tool in TOOLS:
            if shutil.which(tool) is None:
                continue
            for table in TABLES:
                proc = _run([tool, "-w", "-t", table, "-S"])
                if proc.returncode != 0:
                    if "Permission denied" in proc.stderr or "not permitted" in proc.stderr:
                        raise PermissionDenied(f"listing {tool} {table} rules")
                    continue  # the table does not exist in this family: nothing in it
                for line in proc.stdout.splitlines():
                    tokens = shlex.split(line)
                    if len(tokens) >= 2 and tokens[0] == "-N":
                        self.chains.add((tool, table, tokens[1]))
                    elif len(tokens) >= 3 and tokens[0] == "-A":
                        self.rules.append(Rule(tool, table, tokens[1], tuple(tokens[2:])))

    def owned_by(
        self, owners: Iterable[tuple[str, str]]
    ) -> tuple[list[Rule], list[tuple[str, str, str]]]:
        """nat rules and chains of ``owners`` (``(network, id)``): rules to delete, in order, and
        then the chains to remove."""
        wanted = set(owners)
        names = {masq_chain(n, i) for n, i in wanted} | {dnat_chain(n, i) for n, i in wanted}
        outside: list[Rule] = []
        inside: list[Rule] = []
        for rule in self.rules:
            if rule.table != "nat":
                continue
            if rule.chain in names:
                inside.append(rule)
            elif rule.owner() in wanted:
                outside.append(rule)
        chains = sorted(c for c in self.chains if c[1] == "nat" and c[2] in names)
        return outside + inside, chains

    def forward_rules(self, ips: Iterable[str]) -> list[Rule]:
        """The firewall plugin's ``CNI-FORWARD`` rules for exactly these addresses."""
        hosts: dict[str, str] = {}
        for ip in ips:
            addr = ipaddress.ip_address(ip)
            hosts[f"{addr}/{addr.max_prefixlen}"] = "iptables" if addr.version == 4 else "ip6tables"
        found: list[Rule] = []
        for rule in self.rules:
            if rule.table != "filter" or rule.chain != "CNI-FORWARD":
                continue
            spec = rule.spec
            if (len(spec) == 4 and spec[0] == "-s" and spec[2:] == ("-j", "ACCEPT")) or (
                len(spec) == 8
                and spec[0] == "-d"
                and spec[2:]
                == ("-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")
            ):
                host = spec[1]
            else:
                continue
            if hosts.get(host) == rule.tool:
                found.append(rule)
        return found

    @staticmethod
    def delete(rule: Rule) -> bool:
        """``iptables -w -D`` one rule; False if it was already gone."""
        proc = _run([rule.tool, "-w", "-t", rule.table, "-D", rule.chain, *rule.spec])
        if proc.returncode == 0:
            return True
        if any(g in proc.stderr.lower() for g in _GONE):
            return False
        raise _failed(f"deleting {rule.describe()}", proc)

    @staticmethod
    def delete_chain(chain: tuple[str, str, str]) -> bool:
        """``iptables -w -X`` an (emptied) chain; False if it was already gone."""
        tool, table, name = chain
        proc = _run([tool, "-w", "-t", table, "-X", name])
        if proc.returncode == 0:
            return True
        if any(g in proc.stderr.lower() for g in _GONE):
            return False
        raise _failed(f"removing chain {tool} -t {table} {name}", proc)


# --- host-local leases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Lease:
    """One host-local lease file."""

    network: str
    path: str
    ip: str
    container_id: str
    ifname: str


def lease_dir(network: str, plugins: Iterable[Mapping[str, Any]]) -> str | None:
    """Where host-local keeps ``network``'s leases, if one of its plugins uses host-local."""
    for raw in plugins:
        ipam = raw.get("ipam")
        if isinstance(ipam, Mapping) and ipam.get("type") == "host-local":
            root = ipam.get("dataDir")
            return os.path.join(root if isinstance(root, str) and root else LEASE_ROOT, network)
    return None


def leases_in(network: str, directory: str) -> list[Lease]:
    """The lease files in ``directory`` (bookkeeping files and unreadable ones skipped)."""
    try:
        names = sorted(os.listdir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    out: list[Lease] = []
    for name in names:
        if name == "lock" or name.startswith("last_reserved_ip"):
            continue
        try:
            ip = str(ipaddress.ip_address(name.replace("_", ":")))
        except ValueError:
            continue
        path = os.path.join(directory, name)
        try:
            with open(path, encoding="utf-8", errors="replace", newline="") as fh:
                text = fh.read()
        except OSError:
            continue
        container_id, _, ifname = text.partition("\r\n")
        out.append(Lease(network, path, ip, container_id.strip(), ifname.strip()))
    return out


def release_lease(lease: Lease) -> bool:
    """Remove a lease under host-local's own lock, if it still names the same owner."""
    directory = os.path.dirname(lease.path)
    with file_lock(os.path.join(directory, "lock")):
        current = [x for x in leases_in(lease.network, directory) if x.path == lease.path]
        if not current or current[0].container_id != lease.container_id:
            return False
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lease.path)
            return True
    return False


def result_ips(result: Mapping[str, Any] | None) -> list[str]:
    """The addresses of a CNI result of any version (tolerant: bad entries are skipped)."""
    out: list[str] = []
    if not isinstance(result, Mapping):
        return out
    entries: list[Any] = list(result.get("ips") or [])
    for key in ("ip4", "ip6"):  # 0.1.0 / 0.2.0
        if isinstance(result.get(key), Mapping):
            entries.append({"address": result[key].get("ip")})
    for entry in entries:
        if isinstance(entry, Mapping) and isinstance(entry.get("address"), str):
            with contextlib.suppress(ValueError):
                out.append(str(ipaddress.ip_interface(entry["address"]).ip))
    return out
