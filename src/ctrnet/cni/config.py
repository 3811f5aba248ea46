"""Network configuration files: parse, validate and find CNI conflists (libcni's conf.go, strict).

A ``.conflist`` holds a list of plugins; a ``.conf`` / ``.json`` holds one plugin and is
upconverted to a one-element list. Every problem is an :class:`InvalidConfig` that names the file
and what is wrong with it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ctrnet._errors import ConfigNotFound, InvalidConfig
from ctrnet.cni.gojson import dumps as go_json

__all__ = [
    "CONF_EXTENSIONS",
    "NetworkConfigList",
    "PluginConfig",
    "conflist_from_bytes",
    "find",
    "load_dir",
    "load_file",
    "scan_dir",
]

#: file extensions read from a config directory (exact, case-sensitive, like libcni)
CONF_EXTENSIONS = (".conf", ".conflist", ".json")
#: every CNI version this runtime speaks, oldest first
KNOWN_VERSIONS = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
#: the highest version a ``cniVersions`` entry may name; higher entries are skipped
CURRENT_VERSION = KNOWN_VERSIONS[-1]

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.\-]*\Z")
_RESERVED_KEYS = ("runtimeConfig", "args")
_RESERVED_PREFIX = "cni.dev/"


@dataclass(frozen=True)
class PluginConfig:
    """One plugin object of a list: its binary ``type``, the list ``name`` and its raw JSON."""

    type: str
    name: str
    capabilities: Mapping[str, bool]
    raw: dict[str, Any] = field(repr=False)

    @property
    def enabled_capabilities(self) -> tuple[str, ...]:
        """Capability names set to ``true``, in the order the config lists them."""
        return tuple(k for k, v in self.capabilities.items() if v is True)


@dataclass(frozen=True)
class NetworkConfigList:
    """A parsed network configuration list; ``data`` holds the bytes libcni would cache."""

    name: str
    cni_version: str
    cni_versions: tuple[str, ...]
    plugins: tuple[PluginConfig, ...]
    disable_check: bool
    disable_gc: bool
    load_only_inlined_plugins: bool
    raw: dict[str, Any] = field(repr=False)
    data: bytes = field(repr=False)
    path: str | None = None


def version_key(version: str) -> tuple[int, int, int]:
    """Order a CNI version string (1 to 3 numeric parts); "" is 0.1.0. ValueError if malformed."""
    if version == "":
        return (0, 1, 0)
    parts = version.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and p.isascii() for p in parts):
        raise ValueError(version)
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    return (nums[0], nums[1], nums[2])


def conflist_from_bytes(data: bytes, path: str | None = None) -> NetworkConfigList:
    """Parse a conflist or a single-plugin config (upconverted) from ``data``.

    ``path`` names the source in errors. When given, plugins from the sibling directory
    ``<dir of path>/<network name>/*.conf`` are appended unless ``loadOnlyInlinedPlugins`` is set.
    """
    obj = _decode(data, path)
    single = "plugins" not in obj and (
        (path is not None and not path.endswith(".conflist")) or "type" in obj
    )
    if single:
        return _from_single(obj, path)
    return _from_list(obj, data, path)


def load_file(path: str | os.PathLike[str]) -> NetworkConfigList:
    """Read and parse one config file; :class:`InvalidConfig` names the file and the problem."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InvalidConfig(name, f"cannot read: {exc.strerror or exc}") from exc
    return conflist_from_bytes(data, name)


def conf_files(directory: str | os.PathLike[str]) -> list[str]:
    """Regular files in ``directory`` with a config extension, sorted by full path; [] if absent."""
    root = os.fspath(directory)
    try:
        entries = list(os.scandir(root))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise InvalidConfig(root, f"cannot list directory: {exc.strerror or exc}") from exc
    found = []
    for entry in entries:
        dot = entry.name.rfind(".")
        if dot < 0 or entry.name[dot:] not in CONF_EXTENSIONS:
            continue
        try:
            if not entry.is_file():
                continue
        except OSError:
            continue
        found.append(entry.path)
    return sorted(found)


def scan_dir(
    directory: str | os.PathLike[str],
) -> list[tuple[str, NetworkConfigList | InvalidConfig]]:
    """Every config file in ``directory`` in sorted order, parsed, or the error that file gives."""
    out: list[tuple[str, NetworkConfigList | InvalidConfig]] = []
    for name in conf_files(directory):
        try:
            out.append((name, load_file(name)))
        except InvalidConfig as exc:
            out.append((name, exc))
    return out


def load_dir(directory: str | os.PathLike[str]) -> list[NetworkConfigList]:
    """Every config in ``directory`` in sorted order; the first broken file raises."""
    return [load_file(name) for name in conf_files(directory)]


def find(directory: str | os.PathLike[str], name: str) -> NetworkConfigList:
    """The config named ``name``: ``.conflist`` files first, then ``.conf``/``.json`` (libcni).

    Broken files are skipped; if nothing matches and a file was broken, that file's
    :class:`InvalidConfig` is raised (it may be the one wanted), else :class:`ConfigNotFound`.
    """
    scanned = scan_dir(directory)
    ordered = [s for s in scanned if s[0].endswith(".conflist")]
    ordered += [s for s in scanned if not s[0].endswith(".conflist")]
    broken: InvalidConfig | None = None
    for _path, item in ordered:
        if isinstance(item, InvalidConfig):
            broken = broken or item
        elif item.name == name:
            return item
    if broken is not None:
        raise InvalidConfig(broken.path, f"{broken.reason} (while looking for network {name!r})")
    raise ConfigNotFound(name, os.fspath(directory))


# --- parsing ---------------------------------------------------------------------------------


def _decode(data: bytes, path: str | None) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except UnicodeDecodeError as exc:
        raise InvalidConfig(path, f"not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        if not data.strip():
            raise InvalidConfig(path, "the file is empty; write a JSON network config") from exc
        raise InvalidConfig(
            path, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(obj, dict):
        raise InvalidConfig(path, f"expected a JSON object, got {type(obj).__name__}")
    return obj


def _name(obj: Mapping[str, Any], path: str | None) -> str:
    name = obj.get("name")
    if name is None:
        raise InvalidConfig(path, "missing 'name'; give the network a name")
    if not isinstance(name, str):
        raise InvalidConfig(path, f"'name' must be a string, got {json.dumps(name)}")
    if not NAME_RE.match(name):
        raise InvalidConfig(
            path,
            f"invalid network name {name!r}: it must match {NAME_RE.pattern} "
            "(letters, digits, '_', '.', '-'; starting with a letter or digit)",
        )
    return name


def _flag(obj: Mapping[str, Any], key: str, path: str | None) -> bool:
    value = obj.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidConfig(path, f"{key!r} must be true or false, got {json.dumps(value)}")


def _select_version(obj: Mapping[str, Any], path: str | None) -> tuple[str, tuple[str, ...]]:
    """cniVersion and cniVersions merged: the highest supported version wins (SPEC 1.1.0)."""
    declared = obj.get("cniVersion", "")
    if not isinstance(declared, str):
        raise InvalidConfig(path, f"'cniVersion' must be a string, got {json.dumps(declared)}")
    versions = obj.get("cniVersions")
    listed: tuple[str, ...] = ()
    if versions is not None:
        if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
            raise InvalidConfig(path, "'cniVersions' must be a list of version strings")
        listed = tuple(versions)
    candidates = []
    for v in (declared, *listed) if declared else listed:
        try:
            key = version_key(v)
        except ValueError:
            raise InvalidConfig(path, f"invalid CNI version {v!r}; use e.g. 1.0.0") from None
        if v in listed and key > version_key(CURRENT_VERSION):
            continue  # a newer version than we speak: skipped, like libcni
        candidates.append((key, v))
    chosen = max(candidates)[1] if candidates else "0.1.0"
    if chosen not in KNOWN_VERSIONS:
        chosen = _canonical(chosen, path)
    return chosen, listed


def _canonical(version: str, path: str | None) -> str:
    key = version_key(version)
    for known in KNOWN_VERSIONS:
        if version_key(known) == key:
            return known
    raise InvalidConfig(
        path,
        f"cniVersion {version!r} is not supported (supported: {', '.join(KNOWN_VERSIONS)})",
    )


def _plugin(raw: Any, list_name: str, path: str | None, where: str) -> PluginConfig:
    if not isinstance(raw, dict):
        raise InvalidConfig(path, f"{where}: expected a JSON object, got {json.dumps(raw)}")
    ptype = raw.get("type")
    if not isinstance(ptype, str) or not ptype:
        raise InvalidConfig(path, f"{where}: missing 'type'; name the plugin binary")
    if any(c in ptype for c in "/\\\0") or ptype in (".", ".."):
        raise InvalidConfig(
            path, f"{where}: invalid plugin type {ptype!r}; it must be a bare binary name"
        )
    for key in raw:
        if key in _RESERVED_KEYS or key.startswith(_RESERVED_PREFIX):
            raise InvalidConfig(
                path,
                f"{where} ({ptype}): {key!r} is reserved for the runtime; remove it from the config",
            )
    caps = raw.get("capabilities", {})
    if not isinstance(caps, dict) or not all(isinstance(v, bool) for v in caps.values()):
        raise InvalidConfig(
            path, f"{where} ({ptype}): 'capabilities' must map names to true or false"
        )
    return PluginConfig(type=ptype, name=list_name, capabilities=dict(caps), raw=raw)


def _from_single(obj: dict[str, Any], path: str | None) -> NetworkConfigList:
    """Upconvert a one-plugin config the way libcni's ConfListFromConf does."""
    name = _name(obj, path)
    version, listed = _select_version(obj, path)
    plugin = _plugin(obj, name, path, "plugin")
    listed_obj: dict[str, Any] = {"cniVersion": obj.get("cniVersion", ""), "name": name}
    listed_obj["plugins"] = [obj]
    return NetworkConfigList(
        name=name,
        cni_version=version,
        cni_versions=listed,
        plugins=(plugin,),
        disable_check=False,
        disable_gc=False,
        load_only_inlined_plugins=False,
        raw=listed_obj,
        data=go_json(listed_obj).encode(),  # libcni: json.Marshal of the map
        path=path,
    )


def _from_list(obj: dict[str, Any], data: bytes, path: str | None) -> NetworkConfigList:
    name = _name(obj, path)
    version, listed = _select_version(obj, path)
    disable_check = _flag(obj, "disableCheck", path)
    disable_gc = _flag(obj, "disableGC", path)
    inlined_only = _flag(obj, "loadOnlyInlinedPlugins", path)
    raw_plugins = obj.get("plugins")
    if raw_plugins is None:
        if inlined_only:
            raise InvalidConfig(path, "'loadOnlyInlinedPlugins' is true but 'plugins' is missing")
        raw_plugins = []
    elif not isinstance(raw_plugins, list):
        raise InvalidConfig(path, "'plugins' must be a list of plugin objects")
    elif not raw_plugins:
        raise InvalidConfig(path, "no plugins in list; add at least one plugin object")
    plugins = [_plugin(p, name, path, f"plugin {i}") for i, p in enumerate(raw_plugins)]
    if path is not None and not inlined_only:
        plugins += _sibling_plugins(path, name)
    if not plugins:
        raise InvalidConfig(path, "no plugin configs found; add a 'plugins' list")
    return NetworkConfigList(
        name=name,
        cni_version=version,
        cni_versions=listed,
        plugins=tuple(plugins),
        disable_check=disable_check,
        disable_gc=disable_gc,
        load_only_inlined_plugins=inlined_only,
        raw=obj,
        data=data,
        path=path,
    )


def _sibling_plugins(path: str, name: str) -> list[PluginConfig]:
    """Plugins from ``<dir of path>/<name>/*.conf``, in filename order (libcni v1.3)."""
    directory = os.path.join(os.path.dirname(path), name)
    out = []
    for file in conf_files(directory):
        if not file.endswith(".conf"):
            continue
        try:
            with open(file, "rb") as fh:
                raw = _decode(fh.read(), file)
        except OSError as exc:
            raise InvalidConfig(file, f"cannot read: {exc.strerror or exc}") from exc
        out.append(_plugin(raw, name, file, "plugin"))
    return out
