"""The SPEC error object, its codes, and the GC attachment payload."""

from __future__ import annotations

import pytest

from ctrnet._errors import InvalidResult
from ctrnet.cni.spec import (
    GC_ATTACHMENT_KEYS,
    ErrorCode,
    ErrorObject,
    GCAttachment,
    attachments_payload,
    parse_error,
)


def test_error_reply_from_a_go_plugin() -> None:
    err = parse_error(
        b'{"code":7,"msg":"invalid network config","details":"missing subnet","cniVersion":"1.0.0"}'
    )
    assert err == ErrorObject(7, "invalid network config", "missing subnet", "1.0.0")
    assert err.known_code is ErrorCode.INVALID_NETWORK_CONFIG
    assert str(err) == "invalid network config; missing subnet"
    assert parse_error(err.to_bytes()) == err


def test_error_without_details_prints_only_msg_and_omits_details() -> None:
    err = parse_error({"code": 100, "msg": "plugin-specific"})
    assert str(err) == "plugin-specific"
    assert err.known_code is None
    assert err.to_dict() == {"code": 100, "msg": "plugin-specific"}


def test_missing_code_means_unknown_as_in_libcni() -> None:
    assert parse_error({"msg": "boom"}).known_code is ErrorCode.UNKNOWN


def test_transient_errors_are_flagged() -> None:
    assert parse_error({"code": 11, "msg": "busy"}).transient
    assert not parse_error({"code": 1, "msg": "old"}).transient


def test_well_known_codes() -> None:
    assert {c.name: int(c) for c in ErrorCode} == {
        "UNKNOWN": 0,
        "INCOMPATIBLE_CNI_VERSION": 1,
        "UNSUPPORTED_FIELD": 2,
        "UNKNOWN_CONTAINER": 3,
        "INVALID_ENVIRONMENT_VARIABLES": 4,
        "IO_FAILURE": 5,
        "DECODING_FAILURE": 6,
        "INVALID_NETWORK_CONFIG": 7,
        "INVALID_NETNS": 8,
        "TRY_AGAIN_LATER": 11,
        "PLUGIN_NOT_AVAILABLE": 50,
        "PLUGIN_NOT_AVAILABLE_LIMITED_CONNECTIVITY": 51,
        "INTERNAL": 999,
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b'{"code":"7","msg":"x"}', "code"),
        (b'{"code":-1,"msg":"x"}', "code"),
        (b'{"code":1.5,"msg":"x"}', "code"),
        (b'{"code":1,"msg":["x"]}', "msg"),
        (b'{"code":1,"msg":"x","details":{"a":1}}', "details"),
    ],
)
def test_malformed_error_replies_name_the_field(data: bytes, field: str) -> None:
    with pytest.raises(InvalidResult) as info:
        parse_error(data)
    assert info.value.field == field
    assert "CNI error reply" in str(info.value)


def test_error_reply_that_is_not_json_keeps_the_text_for_the_user() -> None:
    with pytest.raises(InvalidResult, match="panic: runtime error"):
        parse_error(b"panic: runtime error: index out of range")


def test_gc_payload_carries_both_attachment_keys() -> None:
    valid = [GCAttachment("c1", "eth0"), GCAttachment("c2", "eth1")]
    payload = attachments_payload(valid)
    want = [{"containerID": "c1", "ifname": "eth0"}, {"containerID": "c2", "ifname": "eth1"}]
    assert GC_ATTACHMENT_KEYS == ("cni.dev/valid-attachments", "cni.dev/attachments")
    assert payload == {"cni.dev/valid-attachments": want, "cni.dev/attachments": want}
    assert attachments_payload([]) == {"cni.dev/valid-attachments": [], "cni.dev/attachments": []}
