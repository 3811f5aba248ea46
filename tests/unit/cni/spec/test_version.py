"""SPEC versions: parsing, ordering, feature gates, negotiation and VERSION replies."""

from __future__ import annotations

import pytest

from ctrnet._errors import IncompatibleVersion, InvalidConfig, InvalidResult
from ctrnet.cni.spec import SUPPORTED_VERSIONS, parse_version_reply
from ctrnet.cni.spec import version as V


def test_supported_versions_are_libcnis_list_in_order() -> None:
    assert SUPPORTED_VERSIONS == ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
    assert sorted(SUPPORTED_VERSIONS, key=V.version_key) == list(SUPPORTED_VERSIONS)
    assert SUPPORTED_VERSIONS[-1] == V.CURRENT_VERSION


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", (0, 1, 0)),
        ("1", (1, 0, 0)),
        ("1.0", (1, 0, 0)),
        ("0.3.1", (0, 3, 1)),
        ("10.2.30", (10, 2, 30)),
    ],
)
def test_parse_version_accepts_what_libcni_accepts(text: str, key: tuple[int, int, int]) -> None:
    assert V.parse_version(text) == key


@pytest.mark.parametrize(
    "text",
    ["1.0.0.0", "v1.0.0", "+1.0.0", "-1.0", "1..0", "1.0.", " 1.0.0", "1.0.0-rc1", "01.0.0", "x"],
)
def test_parse_version_rejects_malformed_with_the_value_in_the_message(text: str) -> None:
    with pytest.raises(InvalidConfig) as info:
        V.parse_version(text)
    assert repr(text) in str(info.value)


def test_parse_version_rejects_non_strings_naming_the_field() -> None:
    with pytest.raises(InvalidConfig, match="cniVersions\\[2\\] must be a string"):
        V.parse_version(4, what="cniVersions[2]")  # type: ignore[arg-type]


def test_ordering_is_numeric_not_lexicographic() -> None:
    assert V.version_key("0.10.0") > V.version_key("0.4.0")
    assert V.version_key("1.0") == V.version_key("1.0.0")


def test_check_supported() -> None:
    assert V.check_supported("") == "0.1.0"
    assert V.check_supported("0.3.1") == "0.3.1"
    with pytest.raises(IncompatibleVersion, match=r"'0\.5\.0' is not supported"):
        V.check_supported("0.5.0", "plugin bridge")
    with pytest.raises(InvalidConfig):
        V.check_supported("one")


@pytest.mark.parametrize(
    ("gate", "first"),
    [
        (V.supports_version_command, "0.2.0"),
        (V.supports_chaining, "0.3.0"),
        (V.supports_capabilities, "0.3.0"),
        (V.supports_check, "0.4.0"),
        (V.prev_result_on_del, "0.4.0"),
        (V.requires_conflist, "1.0.0"),
        (V.supports_gc_and_status, "1.1.0"),
        (V.supports_cni_versions_key, "1.1.0"),
    ],
)
def test_feature_gates_switch_on_at_their_version(gate: object, first: str) -> None:
    assert callable(gate)
    answers = [gate(v) for v in SUPPORTED_VERSIONS]
    i = SUPPORTED_VERSIONS.index(first)
    assert answers == [False] * i + [True] * (len(SUPPORTED_VERSIONS) - i)
    assert gate("") is (first == "0.1.0")


def test_legacy_result_shape_gate() -> None:
    assert [V.is_legacy_result(v) for v in SUPPORTED_VERSIONS] == [True, True] + [False] * 5


def test_highest_common_picks_the_newest_shared_version() -> None:
    plugin = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"]
    assert V.highest_common(plugin) == "1.0.0"
    assert V.highest_common(["1.1.0", "0.4.0", "2.0.0", "garbage"]) == "1.1.0"
    assert V.highest_common(["0.4.0", "1.0.0"], ours=["0.3.1", "0.4.0"]) == "0.4.0"


def test_highest_common_without_overlap_names_both_sides() -> None:
    with pytest.raises(IncompatibleVersion) as info:
        V.highest_common(["2.0.0", "3.0.0"], who="plugin foo")
    text = str(info.value)
    assert "plugin foo" in text and "2.0.0" in text and "1.1.0" in text


def test_select_config_version_like_libcni() -> None:
    assert V.select_config_version("0.4.0", ["1.0.0", "0.3.1"]) == "1.0.0"
    assert V.select_config_version("1.0.0", ["2.0.0", "1.5.0"]) == "1.0.0"
    assert V.select_config_version(None, ["0.3.1", "1.1.0", "9.9.9"]) == "1.1.0"
    assert V.select_config_version("0.3.1", None) == "0.3.1"
    assert V.select_config_version(None, None) == ""
    with pytest.raises(InvalidConfig, match="cniVersions\\[1\\]"):
        V.select_config_version("1.0.0", ["1.0.0", "latest"])


def test_version_reply() -> None:
    info = parse_version_reply(
        b'{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0","1.2.0"]}'
    )
    assert info.cni_version == "1.0.0"
    assert info.supported_versions == ("0.4.0", "1.0.0", "1.2.0")
    assert info.supports("1.0.0") and not info.supports("1.1.0")
    assert V.highest_common(info.supported_versions) == "1.0.0"
    assert parse_version_reply(info.to_dict()) == info


def test_version_reply_020_without_supported_versions_means_010_and_020() -> None:
    info = parse_version_reply({"cniVersion": "0.2.0"})
    assert info.supported_versions == ("0.1.0", "0.2.0")
    assert info.supports("")


@pytest.mark.parametrize(
    ("reply", "field"),
    [
        (b'{"supportedVersions":["1.0.0"]}', "cniVersion"),
        (b'{"cniVersion":"1.0.0"}', "supportedVersions"),
        (b'{"cniVersion":"1.0.0","supportedVersions":"1.0.0"}', "supportedVersions"),
        (b'{"cniVersion":"1.0.0","supportedVersions":[1]}', "supportedVersions"),
        (b'{"cniVersion":7,"supportedVersions":["1.0.0"]}', "cniVersion"),
    ],
)
def test_bad_version_replies_name_the_field(reply: bytes, field: str) -> None:
    with pytest.raises(InvalidResult) as info:
        parse_version_reply(reply)
    assert info.value.field == field
    assert "VERSION reply" in str(info.value)


def test_version_reply_that_is_not_json() -> None:
    with pytest.raises(InvalidResult, match="not valid JSON"):
        parse_version_reply(b"Segmentation fault")
