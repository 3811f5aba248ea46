"""Platform facts: the defaults and refusals each OS gets, readable from any host."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ctrnet import Settings
from ctrnet._errors import UnsupportedOption, ValidationError
from ctrnet.platform import NAMES, current, get
from ctrnet.platform.windows import UNSUPPORTED_NETWORK_ARGS


def test_linux_defaults_match_nerdctl() -> None:
    linux = get("linux")
    assert (linux.default_network, linux.default_driver) == ("bridge", "bridge")
    assert linux.default_bridge == "nerdctl0"
    assert linux.default_subnet == "10.4.0.0/24"
    assert linux.exec_extensions == ("",)
    assert set(linux.drivers) == {"bridge", "macvlan", "ipvlan"}
    assert set(linux.allowed_modes) == {"none", "host", "container", "ns", "cni"}
    assert linux.unsupported_network_args == ()


def test_linux_defaults_agree_with_settings() -> None:
    linux, settings = get("linux"), Settings()
    assert linux.default_conf_dir == settings.conf_dir
    assert linux.default_cni_path == settings.cni_path
    assert linux.default_cache_dir == settings.cache_dir
    assert linux.default_data_root == settings.data_root
    assert linux.default_netns_dir == settings.netns_dir
    assert linux.default_bridge == settings.default_bridge


def test_windows_defaults_match_nerdctl() -> None:
    win = get("windows")
    assert (win.default_network, win.default_driver) == ("nat", "nat")
    assert win.drivers == ("nat",)
    assert win.ipam_drivers == ("default",)
    assert win.default_conf_dir == "C:\\Program Files\\containerd\\cni\\conf"
    assert win.default_cni_path == ("C:\\Program Files\\containerd\\cni\\bin",)
    assert win.exec_extensions == (".exe", "")
    assert win.network_plugin_types == ("nat",)
    assert win.mac_address_plugin_types == ()


@pytest.mark.parametrize("mode", ["host", "container", "ns"])
def test_windows_refuses_linux_only_modes(mode: str) -> None:
    win = get("windows")
    assert not win.mode_allowed(mode)
    assert "Windows" in win.refused_mode_message(mode) or "Linux" in win.refused_mode_message(mode)
    assert get("linux").mode_allowed(mode)


def test_windows_host_mode_message_is_nerdctls() -> None:
    assert get("windows").refused_mode_message("host") == "cannot use host networking on Windows"


def test_windows_allows_cni_mode() -> None:
    assert get("windows").mode_allowed("cni")


def test_windows_unsupported_args_message_lists_all_given_in_stable_order() -> None:
    win = get("windows")
    err = win.unsupported_args_error(["--add-host", "--dns", "--hostname", "--dns"])
    assert isinstance(err, UnsupportedOption)
    assert str(err) == (
        "the following networking arguments are not supported on Windows: "
        "[--hostname --dns --add-host]"
    )
    assert err.option == "--hostname"
    assert err.platform == "windows"
    assert err.exit_code == 2


def test_windows_unsupported_args_order_does_not_depend_on_input_order() -> None:
    win = get("windows")
    forward = win.unsupported_args_error(list(UNSUPPORTED_NETWORK_ARGS))
    backward = win.unsupported_args_error(list(reversed(UNSUPPORTED_NETWORK_ARGS)))
    assert forward is not None and backward is not None
    assert str(forward) == str(backward)
    assert str(forward).endswith(
        "[--hostname --uts --ip --mac-address --dns-opt --dns --dns-search --add-host --domainname]"
    )


def test_windows_allows_publish_and_unrefused_flags() -> None:
    win = get("windows")
    assert win.unsupported_args_error(["-p", "--publish", "--network"]) is None
    assert win.unsupported_args_error([]) is None


def test_linux_refuses_no_networking_arguments() -> None:
    assert get("linux").unsupported_args_error(UNSUPPORTED_NETWORK_ARGS) is None


def test_get_accepts_any_case_and_rejects_unknown_names() -> None:
    assert get("Windows") is get("windows")
    with pytest.raises(ValidationError, match=r"unknown platform 'darwin'.*linux, windows"):
        get("darwin")
    assert set(NAMES) == {"linux", "windows"}


def test_current_is_the_running_os() -> None:
    assert current().name == ("windows" if sys.platform == "win32" else "linux")


def test_facts_are_immutable() -> None:
    with pytest.raises(AttributeError):
        get("linux").default_network = "other"  # type: ignore[misc]


def test_facts_import_without_loading_os_backends() -> None:
    code = (
        "import sys, ctrnet.platform as p; p.get('windows'); p.get('linux'); "
        "print(sorted(m for m in sys.modules if m.startswith('ctrnet.platform._')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
