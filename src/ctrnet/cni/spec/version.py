"""CNI SPEC versions: parsing, ordering, feature gates and negotiation.

Callers ask named questions (``supports_check(v)``) instead of comparing version literals, so the
rules of each SPEC release live in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ctrnet._errors import IncompatibleVersion, InvalidConfig, InvalidResult

__all__ = [
    "CURRENT_VERSION",
    "LEGACY_VERSIONS",
    "SUPPORTED_VERSIONS",
    "VersionInfo",
    "check_supported",
    "highest_common",
    "is_legacy_result",
    "parse_version",
    "parse_version_reply",
    "prev_result_on_del",
    "requires_conflist",
    "select_config_version",
    "supports_capabilities",
    "supports_chaining",
    "supports_check",
    "supports_cni_versions_key",
    "supports_gc_and_status",
    "supports_version_command",
    "version_key",
]

SUPPORTED_VERSIONS: tuple[str, ...] = (
    "0.1.0",
    "0.2.0",
    "0.3.0",
    "0.3.1",
    "0.4.0",
    "1.0.0",
    "1.1.0",
)
"""Every SPEC version ctrnet speaks, oldest first (libcni's ``version.All``)."""

CURRENT_VERSION = "1.1.0"
"""The newest SPEC version ctrnet implements (libcni's ``version.Current()``)."""

LEGACY_VERSIONS: tuple[str, ...] = ("0.1.0", "0.2.0")
"""Versions whose results use the ``ip4``/``ip6`` shape."""

_VERSION_RE = re.compile(r"(0|[1-9][0-9]{0,8})(?:\.(0|[1-9][0-9]{0,8})){0,2}")
_KEYS: dict[str, tuple[int, int, int]] = {}


def parse_version(version: str, *, what: str = "cniVersion") -> tuple[int, int, int]:
    """``"1.0.0"`` -> ``(1, 0, 0)``; ``""`` means 0.1.0 and ``"1.0"`` means 1.0.0, as in libcni.

    Raises :class:`InvalidConfig` naming *what* for anything else (signs, letters, four parts).
    """
    key = _KEYS.get(version) if isinstance(version, str) else None
    if key is not None:
        return key
    if not isinstance(version, str):
        raise InvalidConfig(None, f"{what} must be a string, not {type(version).__name__}")
    if version == "":
        key = (0, 1, 0)
    elif _VERSION_RE.fullmatch(version):
        parts = [int(p) for p in version.split(".")]
        parts += [0] * (3 - len(parts))
        key = (parts[0], parts[1], parts[2])
    else:
        raise InvalidConfig(
            None,
            f"{what} {version!r} is not a version; use MAJOR.MINOR.PATCH such as "
            f"{CURRENT_VERSION!r}",
        )
    if len(_KEYS) < 256:
        _KEYS[version] = key
    return key


def version_key(version: str) -> tuple[int, int, int]:
    """Sort key for versions (``sorted(vs, key=version_key)``); malformed ones raise."""
    return parse_version(version)


def check_supported(version: str, who: str = "") -> str:
    """Return *version* normalised ("" -> "0.1.0") if ctrnet supports it exactly.

    Raises :class:`IncompatibleVersion` for a well-formed version we do not speak (``"0.5.0"``,
    ``"2.0.0"``) and :class:`InvalidConfig` for a malformed one.
    """
    if version == "":
        return "0.1.0"
    if version in SUPPORTED_VERSIONS:
        return version
    parse_version(version)
    raise IncompatibleVersion(version, SUPPORTED_VERSIONS, who)


def _at_least(version: str, minimum: tuple[int, int, int]) -> bool:
    return parse_version(version) >= minimum


# --- feature gates -------------------------------------------------------------------------------


def supports_version_command(version: str) -> bool:
    """The VERSION verb exists (0.2.0+)."""
    return _at_least(version, (0, 2, 0))


def is_legacy_result(version: str) -> bool:
    """Results of this version use the ``ip4``/``ip6`` shape (before 0.3.0)."""
    return not _at_least(version, (0, 3, 0))


def supports_chaining(version: str) -> bool:
    """Configuration lists and ``prevResult`` chaining exist (0.3.0+)."""
    return _at_least(version, (0, 3, 0))


def supports_capabilities(version: str) -> bool:
    """``capabilities`` / ``runtimeConfig`` exist (0.3.0+)."""
    return _at_least(version, (0, 3, 0))


def supports_check(version: str) -> bool:
    """The CHECK verb and ``disableCheck`` exist (0.4.0+)."""
    return _at_least(version, (0, 4, 0))


def prev_result_on_del(version: str) -> bool:
    """DEL must receive the cached ADD result as ``prevResult`` (0.4.0+; libcni skips it before)."""
    return _at_least(version, (0, 4, 0))


def requires_conflist(version: str) -> bool:
    """Single-plugin configs are gone from the SPEC (1.0.0+); ctrnet still upconverts them."""
    return _at_least(version, (1, 0, 0))


def supports_gc_and_status(version: str) -> bool:
    """The GC and STATUS verbs, ``disableGC`` and interface/route extras exist (1.1.0+)."""
    return _at_least(version, (1, 1, 0))


def supports_cni_versions_key(version: str) -> bool:
    """A conflist may carry ``cniVersions`` (1.1.0+)."""
    return _at_least(version, (1, 1, 0))


# --- negotiation ---------------------------------------------------------------------------------


def highest_common(
    theirs: Iterable[str], ours: Sequence[str] = SUPPORTED_VERSIONS, *, who: str = ""
) -> str:
    """The highest version in both *theirs* and *ours*; malformed or unknown entries are skipped.

    Raises :class:`IncompatibleVersion` when there is none.
    """
    theirs = list(theirs)
    known = set(ours)
    common = [v for v in theirs if isinstance(v, str) and v in known]
    if not common:
        shown = ", ".join(str(v) for v in theirs) or "none"
        raise IncompatibleVersion(shown, list(ours), who)
    return max(common, key=version_key)


def select_config_version(cni_version: str | None, cni_versions: Iterable[str] | None) -> str:
    """Pick a conflist's version the way libcni does: the highest of ``cniVersions`` (entries
    newer than 1.1.0 skipped) and ``cniVersion``; neither present means 0.1.0 ("").

    Raises :class:`InvalidConfig` for a malformed entry.
    """
    newest = parse_version(CURRENT_VERSION)
    candidates: list[str] = []
    if cni_versions is not None:
        for i, v in enumerate(cni_versions):
            if parse_version(v, what=f"cniVersions[{i}]") <= newest:
                candidates.append(v)
    if cni_version:
        parse_version(cni_version)
        candidates.append(cni_version)
    if not candidates:
        return cni_version if cni_version is not None else ""
    return max(candidates, key=version_key)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """A plugin's VERSION reply."""

    cni_version: str
    supported_versions: tuple[str, ...]

    def supports(self, version: str) -> bool:
        """Whether the plugin lists *version* ("" counts as 0.1.0)."""
        return (version or "0.1.0") in self.supported_versions

    def to_dict(self) -> dict[str, Any]:
        return {"cniVersion": self.cni_version, "supportedVersions": list(self.supported_versions)}


def parse_version_reply(data: Mapping[str, Any] | bytes | str) -> VersionInfo:
    """Decode a VERSION reply as libcni does: a 0.2.0 reply without ``supportedVersions`` means
    ``[0.1.0, 0.2.0]``; otherwise both fields are required. Unknown versions are kept.

    Raises :class:`InvalidResult` naming the field.
    """
    from ctrnet.cni.spec._fields import load_object

    what = "CNI VERSION reply"
    obj = load_object(data, what=what)
    cni_version = obj.get("cniVersion")
    if not isinstance(cni_version, str) or not cni_version:
        raise InvalidResult("missing or not a non-empty string", field="cniVersion", what=what)
    supported = obj.get("supportedVersions")
    if supported is None or supported == []:
        if cni_version == "0.2.0":
            return VersionInfo(cni_version, LEGACY_VERSIONS)
        raise InvalidResult("missing or empty", field="supportedVersions", what=what)
    if not isinstance(supported, list) or not all(isinstance(v, str) for v in supported):
        raise InvalidResult("must be a list of strings", field="supportedVersions", what=what)
    return VersionInfo(cni_version, tuple(supported))
