"""Property tests: round trips at every version, conversions, and garbage in."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctrnet._errors import CtrnetError
from ctrnet.cni.spec import (
    SUPPORTED_VERSIONS,
    IPConfig,
    Result,
    Result020,
    Route,
    convert,
    parse_error,
    parse_result,
    parse_version_reply,
)
from ctrnet.cni.spec import Interface as Interface100
from ctrnet.cni.spec import version as V

from .strategies import json_values, results, wire_garbage

PROPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAIRS_UP = [
    (a, b)
    for a in SUPPORTED_VERSIONS
    for b in SUPPORTED_VERSIONS
    if V.version_key(a) < V.version_key(b)
]


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
@PROPS
@given(data=st.data())
def test_round_trip_at_each_version(version: str, data: st.DataObject) -> None:
    result = data.draw(results(version))
    wire = result.to_bytes()
    back = parse_result(wire)
    assert back == result
    assert back.to_bytes() == wire
    assert parse_result(json.loads(wire)) == result


@pytest.mark.parametrize(("low", "high"), PAIRS_UP)
@PROPS
@given(data=st.data())
def test_up_then_down_gives_back_the_original(low: str, high: str, data: st.DataObject) -> None:
    result = data.draw(results(low, with_extra=False))
    up = convert(result, high)
    assert up.cni_version == high
    assert convert(up, low) == result


@pytest.mark.parametrize("low", ["0.3.0", "0.3.1", "0.4.0"])
@PROPS
@given(data=st.data())
def test_1x_down_to_040_and_back_keeps_what_040_holds(low: str, data: st.DataObject) -> None:
    result: Result = data.draw(results("1.1.0"))
    back = convert(convert(result, low), "1.1.0")
    assert isinstance(back, Result)
    assert back.interfaces == [
        Interface100(i.name, i.mac, sandbox=i.sandbox) for i in result.interfaces
    ]
    assert back.ips == [IPConfig(ip.address, ip.gateway, ip.interface) for ip in result.ips]
    assert back.routes == [Route(r.dst, r.gw) for r in result.routes]
    assert back.dns == result.dns.without_extra()
    assert back.extra == {}


@pytest.mark.parametrize("low", ["0.1.0", "0.2.0"])
@pytest.mark.parametrize("high", ["0.3.1", "0.4.0", "1.0.0", "1.1.0"])
@PROPS
@given(data=st.data())
def test_down_to_020_and_back_keeps_the_first_address_per_family(
    low: str, high: str, data: st.DataObject
) -> None:
    result = data.draw(results(high))
    v4 = [ip for ip in result.ips if ip.address.version == 4][:1]
    v6 = [ip for ip in result.ips if ip.address.version == 6][:1]
    if not v4 and not v6:
        with pytest.raises(CtrnetError, match="no IP addresses"):
            convert(result, low)
        return
    down = convert(result, low)
    assert isinstance(down, Result020)
    back = convert(down, high)
    assert [(ip.address, ip.gateway) for ip in back.ips] == [
        (ip.address, ip.gateway) for ip in v4 + v6
    ]
    kept = {ip.address.version for ip in v4 + v6}
    want = [
        (r.dst, r.gw)
        for fam in (4, 6)
        if fam in kept
        for r in result.routes
        if r.dst.version == fam
    ]
    assert [(r.dst, r.gw) for r in back.routes] == want
    assert back.interfaces == []
    assert all(ip.interface is None for ip in back.ips)
    assert back.dns == result.dns.without_extra()


def _only_ctrnet_errors(fn: Any, value: Any) -> None:
    with contextlib.suppress(CtrnetError):
        fn(value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=wire_garbage)
def test_wire_shaped_garbage_raises_only_ctrnet_errors(value: dict[str, Any]) -> None:
    _only_ctrnet_errors(parse_result, value)
    _only_ctrnet_errors(parse_result, json.dumps(value).encode())
    _only_ctrnet_errors(parse_version_reply, value)
    _only_ctrnet_errors(parse_error, value)
    for v in SUPPORTED_VERSIONS:
        _only_ctrnet_errors(lambda d, v=v: parse_result(d, v), value)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values)
def test_arbitrary_json_raises_only_ctrnet_errors(value: Any) -> None:
    _only_ctrnet_errors(parse_result, json.dumps(value).encode())
    _only_ctrnet_errors(parse_version_reply, json.dumps(value))
    _only_ctrnet_errors(parse_error, json.dumps(value).encode())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_ctrnet_errors(raw: bytes) -> None:
    _only_ctrnet_errors(parse_result, raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=12))
def test_version_parsing_raises_only_ctrnet_errors_and_orders_consistently(text: str) -> None:
    try:
        key = V.parse_version(text)
    except CtrnetError:
        return
    assert V.parse_version(".".join(map(str, key))) == key
