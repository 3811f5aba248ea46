#!/usr/bin/env python3
"""A CNI plugin for tests: records every call and misbehaves on demand.

Driven by the ``testplugin`` key of its netconf (``on`` maps a command to an action)::

    {"type": "t1", "testplugin": {
        "record": "/tmp/x/calls.jsonl",      # one JSON line per call: command, env, stdin
        "state": "/tmp/x/state",             # ADD creates <id>-<ifname>, DEL removes it, ...
        "on": {"ADD": {"error": {"code": 7, "msg": "bad"}}, "DEL": {"hang": 30},
               "CHECK": {"crash": true}, "STATUS": {"exit": 2, "stderr": "sad"},
               "GC": {"garbage": "<html>"}, "ADD": {"result": {...}}}}}

    "spawn": {"pidfile": P, "sleep": 60, "detach": false} forks a child holding stdout open.
    "while": PATH makes an action apply only while PATH exists (remove it to heal the plugin).
    "while": PATH makes an action apply only while PATH exists (remove it to heal the plugin).

``INSTALLED`` (rewritten by ``install``) holds the VERSION reply, since VERSION gets no netconf.

Each call record also holds the plugin's ``pid``, when it started (``t_start``) and when it had
read its input (``t_read``); its exit time goes to ``<record>.exits``. With ``TESTPLUGIN_STARTS``
in the environment, every process appends ``{"pid", "name"}`` to that file before reading stdin.
"""

import atexit
import json
import os
import signal
import sys
import time

T_START = time.time()
if os.environ.get("TESTPLUGIN_STARTS"):
    with open(os.environ["TESTPLUGIN_STARTS"], "a") as _fh:
        _fh.write(json.dumps({"pid": os.getpid(), "name": os.path.basename(sys.argv[0])}) + "\n")

INSTALLED = {"supportedVersions": ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]}
CNI_KEYS = ("CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_ARGS", "CNI_IFNAME", "CNI_PATH")


def emit(obj):
    sys.stdout.write(json.dumps(obj))
    sys.stdout.flush()


def fail(code, msg, version="1.0.0"):
    emit({"cniVersion": version, "code": code, "msg": msg})
    sys.exit(1)


def spawn(opts):
    """Fork a child that keeps our stdout/stderr open and sleeps; it appends its PID to
    ``pidfile`` itself, so no child that outlives us goes unrecorded.

    With ``detach`` it calls setsid first, leaving our process group as a daemonising helper would.
    """
    if os.fork() == 0:
        if opts.get("detach"):
            os.setsid()
        fd = os.open(opts["pidfile"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
        time.sleep(opts.get("sleep", 60))
        os._exit(0)


def act(action, version):
    """Perform a misbehaviour; returns only for a "result" action or when nothing applies."""
    if "while" in action and not os.path.exists(action["while"]):
        return None
    if "while" in action and not os.path.exists(action["while"]):
        return None
    if "stderr" in action:
        sys.stderr.write(action["stderr"])
        sys.stderr.flush()
    if "spawn" in action:
        spawn(action["spawn"])
    if "hang" in action:
        time.sleep(action["hang"])
    if "error" in action:
        emit({"cniVersion": version, **action["error"]})
        sys.exit(action.get("exit", 1))
    if action.get("crash"):
        os.kill(os.getpid(), signal.SIGSEGV)
    if "garbage" in action:
        sys.stdout.write(action["garbage"])
        sys.exit(action.get("exit", 0))
    if "exit" in action:
        sys.exit(action["exit"])
    return action.get("result")


def record_exit(path):
    with open(path, "a") as fh:
        fh.write(json.dumps({"pid": os.getpid(), "t_exit": time.time()}) + "\n")


def default_result(conf, env):
    version = conf.get("cniVersion", "")
    if "prevResult" in conf:
        return conf["prevResult"]
    if version in ("", "0.1.0", "0.2.0"):
        return {"cniVersion": version, "ip4": {"ip": "10.99.0.2/24", "gateway": "10.99.0.1"}}
    ip = {"address": "10.99.0.2/24", "gateway": "10.99.0.1", "interface": 0}
    if version.startswith("0."):
        ip["version"] = "4"
    iface = {"name": env["CNI_IFNAME"], "mac": "0a:58:0a:63:00:02", "sandbox": env["CNI_NETNS"]}
    return {"cniVersion": version, "interfaces": [iface], "ips": [ip], "dns": {}}


def main():
    env = os.environ
    command = env.get("CNI_COMMAND", "")
    raw = sys.stdin.read()
    t_read = time.time()
    try:
        conf = json.loads(raw) if raw.strip() else {}
    except ValueError:
        fail(6, "cannot decode stdin")
    version = conf.get("cniVersion", "")
    opts = conf.get("testplugin", {}) if isinstance(conf, dict) else {}
    if opts.get("record"):
        with open(opts["record"], "a") as fh:
            record = {
                "command": command,
                "type": conf.get("type"),
                "env": {k: env[k] for k in CNI_KEYS if k in env},
                "inherited": env.get("TESTPLUGIN_MARK"),
                "stdin": conf,
                "pid": os.getpid(),
                "t_start": T_START,
                "t_read": t_read,
            }
            fh.write(json.dumps(record) + "\n")
        atexit.register(record_exit, opts["record"] + ".exits")
    missing = [k for k in CNI_KEYS if k not in env]
    if missing:
        fail(4, "missing env " + ",".join(missing), version)
    if command == "VERSION":
        if "error" in INSTALLED:
            fail(INSTALLED["error"].get("code", 4), INSTALLED["error"]["msg"], version)
        emit({"cniVersion": version or "1.1.0", **INSTALLED})
        return
    given = act(opts.get("on", {}).get(command, {}), version)
    state = opts.get("state")
    key = f"{env['CNI_CONTAINERID']}-{env['CNI_IFNAME']}"
    if command == "ADD":
        if state:
            os.makedirs(state, exist_ok=True)
            path = os.path.join(state, key)
            if os.path.exists(path):
                fail(4, f"attachment {key} exists already", version)
            with open(path, "w") as fh:
                fh.write(env["CNI_NETNS"])
        emit(given if given is not None else default_result(conf, env))
    elif command == "DEL":
        if state and os.path.exists(os.path.join(state, key)):
            os.unlink(os.path.join(state, key))
    elif command == "CHECK":
        if state and not os.path.exists(os.path.join(state, key)):
            fail(3, f"attachment {key} not found", version)
    elif command == "GC":
        valid = {
            f"{a['containerID']}-{a['ifname']}" for a in conf.get("cni.dev/valid-attachments", [])
        }
        if state and os.path.isdir(state) and "cni.dev/valid-attachments" in conf:
            for name in os.listdir(state):
                if name not in valid:
                    os.unlink(os.path.join(state, name))
    elif command == "STATUS":
        pass
    else:
        fail(4, f"unknown CNI_COMMAND: {command}", version)


if __name__ == "__main__":
    main()
