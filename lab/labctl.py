"""Start, stop and query the microseg lab (HTTPS emulators of the product APIs).

    python lab/labctl.py start  --dir DIR [--sqlite] [--prisma-port N] [--nsxt-port N] [--sw-port N]
                                [--prisma-workloads FILE] [--prisma-flows FILE|NAME] [--latency-ms N]
    python lab/labctl.py stop   --dir DIR
    python lab/labctl.py status --dir DIR

``start`` runs the lab as a background process on 127.0.0.1 and returns once it answers. DIR
receives ca.pem (the lab CA, kept across runs), server.pem/server.key, lab.pid, lab.log,
lab.json (URLs, credentials, CA path per product) and lab.env (shell variables).
``--latency-ms`` delays every product request by N milliseconds (a round trip across a WAN; admin
routes are not delayed); given to ``start`` while the lab of DIR already runs, it changes the running
lab's latency. ``stop`` is idempotent. ``status`` exits 0 when the lab runs and answers, 3 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

RECORDINGS_DIR = os.path.join(HERE, "microseg_lab", "prisma", "recordings")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
MAX_LATENCY_MS = 10000  # the servers' bound (microseg_lab.common.server.MAX_LATENCY)


def _path(state_dir: str, name: str) -> str:
    return os.path.join(state_dir, name)


def _read_pid(state_dir: str) -> int | None:
    try:
        with open(_path(state_dir, "lab.pid")) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_our_process(pid: int, state_dir: str) -> bool:
    """True when ``pid`` is alive and is the lab serving ``state_dir`` (not a recycled pid)."""
    if not _alive(pid):
        return False
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = [a.decode(errors="replace") for a in handle.read().split(b"\0") if a]
    except OSError:
        return True  # no /proc: trust the pid file
    return "_serve" in argv and state_dir in argv


def _lab_json(state_dir: str) -> dict | None:
    try:
        with open(_path(state_dir, "lab.json")) as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def _opener(state_dir: str) -> urllib.request.OpenerDirector:
    context = ssl.create_default_context(cafile=_path(state_dir, "ca.pem"))
    # loopback only: never through a proxy from the environment
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))


def _answers(state_dir: str, description: dict) -> bool:
    opener = _opener(state_dir)
    for section in description.values():
        url = section.get("url") if isinstance(section, dict) else None
        if not url:
            return False
        try:
            with opener.open(url + "/_lab/health", timeout=5) as response:
                if response.status != 200:
                    return False
        except (OSError, urllib.error.URLError, ssl.SSLError):
            return False
    return bool(description)


def _set_latency(state_dir: str, description: dict, milliseconds: float) -> bool:
    """PUT /_lab/latency on every product server of a running lab; False when one refuses."""
    opener = _opener(state_dir)
    body = json.dumps({"seconds": milliseconds / 1000.0}).encode()
    for section in description.values():
        request = urllib.request.Request(section["url"] + "/_lab/latency", data=body, method="PUT",
                                         headers={"Content-Type": "application/json"})
        try:
            with opener.open(request, timeout=5) as response:
                if response.status != 200:
                    return False
        except (OSError, urllib.error.URLError, ssl.SSLError):
            return False
    return True


def _latency_ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_LATENCY_MS:  # NaN fails too
        raise argparse.ArgumentTypeError("a number of milliseconds from 0 to %d, got %r" % (MAX_LATENCY_MS, text))
    return value


def _running(state_dir: str) -> int | None:
    pid = _read_pid(state_dir)
    if pid is not None and _is_our_process(pid, state_dir):
        return pid
    return None


def _log_tail(state_dir: str, lines: int = 30) -> str:
    try:
        with open(_path(state_dir, "lab.log"), errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def _summary(description: dict) -> str:
    lines = []
    for name, section in description.items():
        if "namespace" in section:
            detail = "namespace %s" % section["namespace"]
        elif "api_key" in section:
            detail = "signed requests, API key and secret in lab.json"
        else:
            detail = "user %s" % section.get("username", "-")
        lines.append("%s: %s (%s)" % (name, section.get("url"), detail))
    return "\n".join(lines)


def _recording(name: str) -> str | None:
    """A flow recording: a file, or the name of one under lab/microseg_lab/prisma/recordings (``hipster-week``)."""
    if os.path.isfile(name):
        return os.path.abspath(name)
    for candidate in (os.path.join(RECORDINGS_DIR, name), os.path.join(RECORDINGS_DIR, name + ".json")):
        if os.path.isfile(candidate):
            return candidate
    return None


def cmd_start(args) -> int:
    state_dir = os.path.abspath(args.dir)
    recording = None
    if getattr(args, "prisma_flows", None):
        recording = _recording(args.prisma_flows)
        if recording is None:
            bundled = sorted(f[:-5] for f in os.listdir(RECORDINGS_DIR) if f.endswith(".json")) if os.path.isdir(RECORDINGS_DIR) else []
            sys.stderr.write("no such flow recording: %s (a file, or one of: %s)\n" % (args.prisma_flows, ", ".join(bundled) or "none"))
            return 2
    os.makedirs(state_dir, exist_ok=True)
    pid = _running(state_dir)
    if pid is not None:
        description = _lab_json(state_dir)
        if description and _answers(state_dir, description):
            if args.latency_ms is not None:
                if not _set_latency(state_dir, description, args.latency_ms):
                    sys.stderr.write("lab already running (pid %d) but refused the latency of %g ms\n" % (pid, args.latency_ms))
                    return 1
                print("lab already running (pid %d), latency now %g ms per request\n%s" % (pid, args.latency_ms, _summary(description)))
                return 0
            print("lab already running (pid %d)\n%s" % (pid, _summary(description)))
            return 0
        _stop_pid(pid)
    for name in ("lab.json", "lab.env", "lab.pid"):
        try:
            os.unlink(_path(state_dir, name))
        except OSError:
            pass
    command = [sys.executable, os.path.join(HERE, "labctl.py"), "_serve", "--dir", state_dir, "--prisma-port", str(args.prisma_port),
               "--nsxt-port", str(args.nsxt_port), "--sw-port", str(args.sw_port)]
    if args.sqlite:
        command.append("--sqlite")
    if args.latency_ms:
        command += ["--latency-ms", repr(args.latency_ms)]
    env = dict(os.environ)
    if getattr(args, "prisma_workloads", None):
        # read by microseg_lab.prisma.workloads (the processing units the simulated enforcers report)
        env["MICROSEG_LAB_PRISMA_WORKLOADS"] = os.path.abspath(args.prisma_workloads)
    if recording:
        # read by microseg_lab.prisma (flows loaded at start, relative timestamps taken from that moment)
        env["MICROSEG_LAB_PRISMA_FLOWS"] = recording
    with open(_path(state_dir, "lab.log"), "ab") as log, open(os.devnull, "rb") as devnull:
        process = subprocess.Popen(command, stdin=devnull, stdout=log, stderr=log, cwd=state_dir, start_new_session=True, close_fds=True,
                                   env=env)
    with open(_path(state_dir, "lab.pid"), "w") as handle:
        handle.write("%d\n" % process.pid)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.stderr.write("lab exited during start (code %s); last log lines:\n%s" % (process.returncode, _log_tail(state_dir)))
            return 1
        description = _lab_json(state_dir)
        if description and _answers(state_dir, description):
            print("lab started (pid %d)\n%s" % (process.pid, _summary(description)))
            return 0
        time.sleep(0.1)
    sys.stderr.write("lab did not answer within %ds; last log lines:\n%s" % (START_TIMEOUT, _log_tail(state_dir)))
    _stop_pid(process.pid)
    return 1


def _stop_pid(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            finished = os.waitpid(pid, os.WNOHANG)[0]
            if finished == pid:
                return
        except ChildProcessError:
            pass
        if not _alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def cmd_stop(args) -> int:
    state_dir = os.path.abspath(args.dir)
    pid = _running(state_dir)
    if pid is None:
        print("lab not running")
    else:
        _stop_pid(pid)
        print("lab stopped (pid %d)" % pid)
    try:
        os.unlink(_path(state_dir, "lab.pid"))
    except OSError:
        pass
    return 0


def cmd_status(args) -> int:
    state_dir = os.path.abspath(args.dir)
    pid = _running(state_dir)
    description = _lab_json(state_dir)
    if pid is not None and description and _answers(state_dir, description):
        print("lab running (pid %d)\n%s" % (pid, _summary(description)))
        return 0
    print("lab not running")
    return 3


def cmd_serve(args) -> int:
    from microseg_lab.daemon import run

    ports = {"prisma": args.prisma_port, "nsxt": args.nsxt_port, "secure_workload": args.sw_port}
    return run(os.path.abspath(args.dir), sqlite=args.sqlite, ports=ports, latency=(args.latency_ms or 0) / 1000.0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="labctl.py", description="Control the microseg lab emulators.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("start", "start the lab in the background"), ("_serve", argparse.SUPPRESS)):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--dir", required=True, help="state directory (created if missing)")
        p.add_argument("--sqlite", action="store_true", help="persist objects in DIR/<product>.sqlite")
        p.add_argument("--prisma-port", type=int, default=0, help="Prisma API port on 127.0.0.1 (0 = any free port)")
        p.add_argument("--nsxt-port", type=int, default=0, help="NSX-T manager API port on 127.0.0.1 (0 = any free port)")
        p.add_argument("--sw-port", type=int, default=0, help="Secure Workload OpenAPI port on 127.0.0.1 (0 = any free port)")
        p.add_argument("--latency-ms", type=_latency_ms, default=None, metavar="N",
                       help="delay every product request by N milliseconds, as a WAN round trip would (default 0; at most %d; "
                            "admin routes are not delayed; on a running lab, changes its latency)" % MAX_LATENCY_MS)
        if name == "start":
            p.add_argument("--prisma-workloads", metavar="FILE",
                           help="JSON fixture of the Prisma processing units per namespace (default lab/microseg_lab/prisma/workloads.json)")
            p.add_argument("--prisma-flows", metavar="FILE",
                           help="Prisma flow recording loaded at start: a JSON file, or the name of a bundled one "
                                "(hipster-week = lab/microseg_lab/prisma/recordings/hipster-week.json)")
    for name, helptext in (("stop", "stop the lab (idempotent)"), ("status", "exit 0 when the lab runs and answers")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--dir", required=True, help="state directory")
    args = parser.parse_args(argv)
    handlers = {"start": cmd_start, "stop": cmd_stop, "status": cmd_status, "_serve": cmd_serve}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
