"""The one exception tree of ctrnet.

::

    CtrnetError                     .exit_code (1); str() is the whole message
    ├── ConfigError                 a CNI config file or directory is unusable
    │   ├── ConfigNotFound          (.name, .directory)
    │   └── InvalidConfig           (.path, .reason)
    │       └── InvalidResult       a CNI result / reply on the wire is malformed (.field)
    ├── ValidationError             exit 2; (.option, .value): bad user input, nothing was changed
    │   ├── UnsupportedOption       (.option, .platform / .driver)
    │   └── SubnetConflict          (.subnet, .other)
    ├── NotFoundError               exit 3; a network, sandbox or plugin that does not exist
    │   ├── NetworkNotFound         (.name)
    │   ├── SandboxNotFound         (.sandbox_id)
    │   └── PluginNotFound          (.plugin, .search_path)
    ├── ConflictError               exit 4; exists already, in use, ambiguous
    │   ├── NetworkExists / NetworkInUse / AmbiguousReference
    │   └── SandboxExists
    ├── VersionError                CNI version negotiation failed
    │   ├── IncompatibleVersion     (.version, .supported)
    │   └── OperationNotSupported   (.operation, .version)
    ├── PluginError                 a CNI plugin answered with an error (.plugin, .network, .command,
    │   │                           .code, .msg, .details, .stderr)
    │   ├── PluginExecError         crashed, killed by a signal or printed no valid JSON
    │   └── PluginTimeout           killed after the per-call timeout
    ├── SystemError_                an OS call failed (namespace, mount, netlink, iptables)
    │   ├── PermissionDenied        needs root / CAP_NET_ADMIN
    │   ├── StorageError            a file or lock cannot be written (also an OSError)
    │   └── HcnError                a Windows HCN call failed (.operation, .hresult, .record)
    └── MultipleErrors              (.errors) collected by best-effort teardown and GC
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "AmbiguousReference",
    "ConfigError",
    "ConfigNotFound",
    "ConflictError",
    "CtrnetError",
    "HcnError",
    "IncompatibleVersion",
    "InvalidConfig",
    "InvalidResult",
    "MultipleErrors",
    "NetworkExists",
    "NetworkInUse",
    "NetworkNotFound",
    "NotFoundError",
    "OperationNotSupported",
    "PermissionDenied",
    "PluginError",
    "PluginExecError",
    "PluginNotFound",
    "PluginTimeout",
    "SandboxExists",
    "SandboxNotFound",
    "StorageError",
    "SubnetConflict",
    "SystemError_",
    "UnsupportedOption",
    "ValidationError",
    "VersionError",
]


class CtrnetError(Exception):
    """Root of every error ctrnet raises on purpose; the CLI prints it without a traceback."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view, used by ``--format json`` error output."""
        return {"error": self.message, "type": type(self).__name__}


# --- configuration -------------------------------------------------------------------------------


class ConfigError(CtrnetError):
    """A CNI configuration file or directory cannot be used."""


class ConfigNotFound(ConfigError):
    """No network configuration with the given name exists in the directory."""

    exit_code = 3

    def __init__(self, name: str, directory: str) -> None:
        super().__init__(f"no network configuration named {name!r} found in {directory}")
        self.name = name
        self.directory = directory


class InvalidConfig(ConfigError):
    """A configuration file (or in-memory config) is malformed; names the file and the problem."""

    def __init__(self, path: str | None, reason: str) -> None:
        where = path if path else "network configuration"
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.reason = reason


class InvalidResult(InvalidConfig):
    """A CNI result, error or VERSION reply is malformed; names the field and the problem."""

    def __init__(self, reason: str, *, field: str | None = None, what: str = "CNI result") -> None:
        super().__init__(None, reason)
        where = f"{what}, field {field!r}" if field else what
        self.message = f"{where}: {reason}"
        self.args = (self.message,)
        self.field = field


# --- user input ----------------------------------------------------------------------------------


class ValidationError(CtrnetError):
    """Bad user input; raised before anything on the host is changed."""

    exit_code = 2

    def __init__(self, message: str, *, option: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.option = option
        self.value = value


class UnsupportedOption(ValidationError):
    """An option that the platform or driver does not support."""

    def __init__(
        self,
        message: str,
        *,
        option: str | None = None,
        value: object = None,
        platform: str | None = None,
        driver: str | None = None,
    ) -> None:
        super().__init__(message, option=option, value=value)
        self.platform = platform
        self.driver = driver


class SubnetConflict(ValidationError):
    """A subnet overlaps a host route, a host address or another network."""

    def __init__(self, subnet: str, other: str, message: str | None = None) -> None:
        super().__init__(
            message or f"subnet {subnet} overlaps {other}", option="subnet", value=subnet
        )
        self.subnet = subnet
        self.other = other


# --- lookups -------------------------------------------------------------------------------------


class NotFoundError(CtrnetError):
    """Something named by the user does not exist."""

    exit_code = 3


class NetworkNotFound(NotFoundError):
    def __init__(self, name: str, hint: str | None = None) -> None:
        msg = f"network {name!r} not found"
        super().__init__(f"{msg}: {hint}" if hint else msg)
        self.name = name


class SandboxNotFound(NotFoundError):
    def __init__(self, sandbox_id: str) -> None:
        super().__init__(f"sandbox {sandbox_id!r} not found")
        self.sandbox_id = sandbox_id


class PluginNotFound(NotFoundError):
    def __init__(self, plugin: str, search_path: Sequence[str]) -> None:
        where = ":".join(search_path) if search_path else "(empty CNI_PATH)"
        super().__init__(
            f"CNI plugin {plugin!r} not found in {where}; install it or set CNI_PATH / --cni-path"
        )
        self.plugin = plugin
        self.search_path = list(search_path)


# --- conflicts -----------------------------------------------------------------------------------


class ConflictError(CtrnetError):
    """The request conflicts with what exists: already there, in use, or ambiguous."""

    exit_code = 4


class NetworkExists(ConflictError):
    def __init__(self, name: str) -> None:
        super().__init__(f"network {name!r} already exists")
        self.name = name


class NetworkInUse(ConflictError):
    def __init__(self, name: str, users: Iterable[str]) -> None:
        self.users = sorted(users)
        super().__init__(
            f"network {name!r} is in use by {', '.join(self.users)}; tear those down first"
        )
        self.name = name


class AmbiguousReference(ConflictError):
    def __init__(self, kind: str, ref: str, matches: Iterable[str]) -> None:
        self.matches = sorted(matches)
        super().__init__(
            f"{kind} reference {ref!r} is ambiguous; it matches {', '.join(self.matches)}"
        )
        self.ref = ref


class SandboxExists(ConflictError):
    def __init__(self, sandbox_id: str) -> None:
        super().__init__(f"sandbox {sandbox_id!r} already exists; tear it down first")
        self.sandbox_id = sandbox_id


# --- CNI versions --------------------------------------------------------------------------------


class VersionError(CtrnetError):
    """CNI version negotiation or conversion failed."""


class IncompatibleVersion(VersionError):
    def __init__(self, version: str, supported: Sequence[str], who: str = "") -> None:
        prefix = f"{who}: " if who else ""
        super().__init__(
            f"{prefix}CNI version {version!r} is not supported (supported: {', '.join(supported)})"
        )
        self.version = version
        self.supported = list(supported)


class OperationNotSupported(VersionError):
    def __init__(self, operation: str, version: str, minimum: str) -> None:
        super().__init__(
            f"CNI {operation} needs cniVersion {minimum} or later; the configuration has {version}"
        )
        self.operation = operation
        self.version = version
        self.minimum = minimum


# --- plugins -------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """Plugin text on one line (non-empty lines joined by " | "), so an error stays one line."""
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())


class PluginError(CtrnetError):
    """A CNI plugin failed. Carries the SPEC error object and where it happened."""

    def __init__(
        self,
        msg: str,
        *,
        plugin: str | None = None,
        network: str | None = None,
        command: str | None = None,
        code: int | None = None,
        details: str = "",
        stderr: str = "",
    ) -> None:
        self.plugin = plugin
        self.network = network
        self.command = command
        self.code = code
        self.msg = msg
        self.details = details
        self.stderr = stderr
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.plugin:
            where.append(f"plugin {self.plugin!r}")
        if self.network:
            where.append(f"network {self.network!r}")
        head = " ".join(where) or "CNI plugin"
        if self.command:
            head += f" failed ({self.command})"
        else:
            head += " failed"
        text = f"{head}: {_one_line(self.msg)}"
        if self.code is not None:
            text += f" [CNI code {self.code}]"
        if self.details:
            text += f"; details: {_one_line(self.details)}"
        if self.stderr.strip():
            text += f"; stderr: {_one_line(self.stderr)}"
        return text

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update(
            plugin=self.plugin,
            network=self.network,
            command=self.command,
            code=self.code,
            msg=self.msg,
            details=self.details,
        )
        return data


class PluginExecError(PluginError):
    """The plugin crashed, was killed by a signal, or printed output that is not a SPEC reply."""


class PluginTimeout(PluginExecError):
    """The plugin ran past the per-call timeout and was killed."""


# --- the operating system ------------------------------------------------------------------------


class SystemError_(CtrnetError):
    """An OS call (namespace, mount, netlink, firewall) failed."""


class PermissionDenied(SystemError_):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what}: permission denied; run as root or with CAP_NET_ADMIN")


class StorageError(SystemError_, OSError):
    """A file or lock under ctrnet's directories cannot be written (read-only, full, no rights).

    Also an ``OSError``, so callers that already handle those keep working.
    """

    def __init__(self, what: str, exc: OSError) -> None:
        reason = exc.strerror or str(exc)
        hint = "run as root or fix the directory's permissions"
        if exc.errno == 28:
            hint = "free some space"
        elif exc.errno == 30:
            hint = "point ctrnet at a writable directory"
        super().__init__(f"{what}: {reason}; {hint}")
        self.errno = exc.errno
        self.strerror = exc.strerror


class HcnError(SystemError_):
    """A Windows Host Compute Network call failed; carries the HRESULT and HCN's error record."""

    def __init__(self, operation: str, hresult: int, message: str, record: str = "") -> None:
        self.operation = operation
        self.hresult = hresult & 0xFFFFFFFF
        self.record = record
        super().__init__(f"{operation} failed: {message} (HRESULT 0x{self.hresult:08X})")

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.update(operation=self.operation, hresult=self.hresult)
        return data


# --- aggregation ---------------------------------------------------------------------------------


class MultipleErrors(CtrnetError):
    """Several errors collected by a best-effort operation (teardown, GC); flattened."""

    errors: list[BaseException]

    def __init__(self, errors: Iterable[BaseException], context: str = "") -> None:
        flat: list[BaseException] = []
        for err in errors:
            if isinstance(err, MultipleErrors):
                flat.extend(err.errors)
            else:
                flat.append(err)
        self.errors = flat
        lines = [f"- {e}" for e in flat]
        head = f"{context}: " if context else ""
        super().__init__(f"{head}{len(flat)} error(s):\n" + "\n".join(lines))
        codes = {getattr(e, "exit_code", 1) for e in flat}
        self.exit_code = codes.pop() if len(codes) == 1 else 1

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["errors"] = [
            e.to_dict() if isinstance(e, CtrnetError) else {"error": str(e)} for e in self.errors
        ]
        return data


def raise_collected(errors: Sequence[BaseException], context: str = "") -> None:
    """Raise nothing, the one error, or a :class:`MultipleErrors` for several."""
    if not errors:
        return
    if len(errors) == 1 and isinstance(errors[0], CtrnetError):
        raise errors[0]
    raise MultipleErrors(errors, context)


def details_of(mapping: Mapping[str, Any]) -> str:
    """Render a SPEC error object's ``details`` field safely."""
    value = mapping.get("details", "")
    return value if isinstance(value, str) else str(value)
