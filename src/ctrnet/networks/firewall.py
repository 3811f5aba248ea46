"""What the installed firewall plugin can do: which ``ingressPolicy`` values it accepts.

The plugin's about text is no help (Debian's build says ``CNI firewall plugin version
unknown``), so the policy itself is probed: a DEL carrying ``ingressPolicy: <policy>``, with no
prevResult and no namespace, for a container ID nobody uses. Such a DEL has nothing to remove, so
the host is left alone; a plugin that does not know the policy answers ``unknown ingress policy``
(containernetworking-plugins before 1.7.1 for ``isolated``), one that does succeeds.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from ctrnet._errors import CtrnetError, MultipleErrors, PluginError
from ctrnet._settings import Settings
from ctrnet.cni import CNI, RuntimeConf, conflist_from_bytes

__all__ = ["PolicyProbe", "probe_ingress_policy"]

#: the network name the probe's DEL carries (it exists nowhere; no cache entry is written)
PROBE_NETWORK = "ctrnet-firewall-probe"
#: how a firewall plugin refuses a policy it does not implement
_UNKNOWN = "unknown ingress policy"


@dataclass(frozen=True)
class PolicyProbe:
    """The probe's verdict: ``supported`` is None when the answer was inconclusive."""

    policy: str
    supported: bool | None
    detail: str = ""


def probe_ingress_policy(settings: Settings, policy: str) -> PolicyProbe:
    """Ask the firewall plugin in ``settings.cni_path`` whether it accepts ``policy``."""
    doc = {
        "cniVersion": "1.0.0",
        "name": PROBE_NETWORK,
        "plugins": [{"type": "firewall", "ingressPolicy": policy}],
    }
    conf = conflist_from_bytes(json.dumps(doc).encode())
    probe_id = f"ctrnet-probe-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        CNI.from_settings(settings).delete(conf, RuntimeConf(container_id=probe_id, netns=""))
    except CtrnetError as exc:
        errors = exc.errors if isinstance(exc, MultipleErrors) else [exc]
        for err in errors:
            if isinstance(err, PluginError) and _UNKNOWN in err.msg.lower():
                return PolicyProbe(policy, False, err.msg)
        return PolicyProbe(policy, None, str(exc))
    return PolicyProbe(policy, True)
