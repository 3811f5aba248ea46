"""Hypothesis strategies for results of every SPEC version and for wire-shaped garbage."""

from __future__ import annotations

from ipaddress import IPv4Interface, IPv6Interface
from typing import Any

from hypothesis import strategies as st

from ctrnet.cni.spec import DNS, BasicRoute, Interface, IPConfig, Result, Route, v020, v040

U32 = st.integers(min_value=0, max_value=2**32 - 1)
text = st.text(max_size=12)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


def extras(known: frozenset[str], enabled: bool) -> st.SearchStrategy[dict[str, Any]]:
    if not enabled:
        return st.just({})
    keys = st.text(min_size=1, max_size=8).filter(lambda k: k not in known)
    return st.dictionaries(keys, json_values, max_size=2)


def interfaces(family: int) -> st.SearchStrategy[IPv4Interface | IPv6Interface]:
    if family == 4:
        return st.builds(
            lambda a, p: IPv4Interface((a, p)), st.ip_addresses(v=4), st.integers(0, 32)
        )
    return st.builds(lambda a, p: IPv6Interface((a, p)), st.ip_addresses(v=6), st.integers(0, 128))


def addresses(family: int | None = None) -> st.SearchStrategy[Any]:
    return st.ip_addresses(v=family) if family else st.ip_addresses()


def networks(family: int | None = None) -> st.SearchStrategy[Any]:
    fams = st.just(family) if family else st.sampled_from([4, 6])
    return fams.flatmap(interfaces).map(lambda i: i.network)


def any_interface() -> st.SearchStrategy[IPv4Interface | IPv6Interface]:
    return interfaces(4) | interfaces(6)


def dns(with_extra: bool) -> st.SearchStrategy[DNS]:
    return st.builds(
        DNS,
        st.lists(addresses().map(str), max_size=3).map(tuple),
        text,
        st.lists(text, max_size=2).map(tuple),
        st.lists(text, max_size=2).map(tuple),
        extras(DNS._KNOWN, with_extra),
    )


def basic_routes(
    family: int | None = None, *, with_extra: bool = False
) -> st.SearchStrategy[BasicRoute]:
    return st.builds(
        BasicRoute,
        networks(family),
        st.none() | addresses(family),
        extras(BasicRoute._KNOWN, with_extra),
    )


def results_100(version: str, *, with_extra: bool = True) -> st.SearchStrategy[Result]:
    opt_u32 = st.none() | U32
    iface = st.builds(
        Interface, text, text, opt_u32, text, text, text, extras(Interface._KNOWN, with_extra)
    )
    ip = st.builds(
        IPConfig,
        any_interface(),
        st.none() | addresses(),
        st.none() | st.integers(0, 4),
        extras(IPConfig._KNOWN, with_extra),
    )
    route = st.builds(
        Route,
        networks(),
        st.none() | addresses(),
        opt_u32,
        opt_u32,
        opt_u32,
        opt_u32,
        st.none() | st.integers(0, 255),
        extras(Route._KNOWN, with_extra),
    )
    return st.builds(
        Result,
        st.just(version),
        st.lists(iface, max_size=3),
        st.lists(ip, max_size=4),
        st.lists(route, max_size=3),
        dns(with_extra),
        extras(Result._KNOWN, with_extra),
    )


def results_040(version: str, *, with_extra: bool = True) -> st.SearchStrategy[v040.Result]:
    iface = st.builds(v040.Interface, text, text, text, extras(v040.Interface._KNOWN, with_extra))
    ip = st.builds(
        v040.IPConfig,
        any_interface(),
        st.none() | addresses(),
        st.none() | st.integers(0, 4),
        extras(v040.IPConfig._KNOWN, with_extra),
    )
    return st.builds(
        v040.Result,
        st.just(version),
        st.lists(iface, max_size=3),
        st.lists(ip, max_size=4),
        st.lists(basic_routes(with_extra=with_extra), max_size=3),
        dns(with_extra),
        extras(v040.Result._KNOWN, with_extra),
    )


def ip_config_020(family: int, with_extra: bool) -> st.SearchStrategy[v020.IPConfig]:
    return st.builds(
        v020.IPConfig,
        interfaces(family),
        st.none() | addresses(family),
        st.lists(basic_routes(family, with_extra=with_extra), max_size=2).map(tuple),
        extras(v020.IPConfig._KNOWN, with_extra),
    )


def results_020(version: str, *, with_extra: bool = True) -> st.SearchStrategy[v020.Result]:
    """0.1.0/0.2.0 results with at least one address, and routes of their address's family."""
    return st.builds(
        v020.Result,
        st.just(version),
        st.none() | ip_config_020(4, with_extra),
        st.none() | ip_config_020(6, with_extra),
        dns(with_extra),
        extras(v020.Result._KNOWN, with_extra),
    ).filter(lambda r: r.ip4 is not None or r.ip6 is not None)


def results(version: str, *, with_extra: bool = True) -> st.SearchStrategy[Any]:
    if version in v020.SUPPORTED_VERSIONS:
        return results_020(version, with_extra=with_extra)
    if version in v040.SUPPORTED_VERSIONS:
        return results_040(version, with_extra=with_extra)
    return results_100(version, with_extra=with_extra)


# --- wire-shaped garbage -------------------------------------------------------------------------

_plausible_strings = st.sampled_from(
    [
        "",
        "4",
        "6",
        "10.0.0.1",
        "10.0.0.1/24",
        "fd00::1/64",
        "::/0",
        "0.0.0.0/0",
        "1.0.0",
        "0.2.0",
        "10.0.0.1/33",
        "x/24",
        "fe80::1%eth0/64",
        "0.4.0",
        "1.1.0",
        "eth0",
    ]
)
_values = _plausible_strings | json_values


def _obj(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={k: _values for k in keys})


_ip_obj = _obj(["ip", "address", "gateway", "interface", "version", "routes"])
_route_obj = _obj(["dst", "gw", "mtu", "advmss", "priority", "table", "scope"])
_iface_obj = _obj(["name", "mac", "mtu", "sandbox", "socketPath", "pciID"])
_dns_obj = _obj(["nameservers", "domain", "search", "options"])


def _list_or(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(value | _values, max_size=3) | _values


wire_garbage = st.fixed_dictionaries(
    {},
    optional={
        "cniVersion": st.sampled_from(
            ["", "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
        )
        | _values,
        "interfaces": _list_or(_iface_obj),
        "ips": _list_or(_ip_obj),
        "routes": _list_or(_route_obj),
        "ip4": _ip_obj.map(lambda d: {**d, "routes": [d.get("routes")]}) | _values,
        "ip6": _ip_obj | _values,
        "dns": _dns_obj.map(lambda d: {**d, "nameservers": [d.get("nameservers")]}) | _values,
        "code": _values,
        "msg": _values,
        "supportedVersions": _list_or(_plausible_strings),
    },
)

__all__ = ["json_values", "results", "wire_garbage"]
