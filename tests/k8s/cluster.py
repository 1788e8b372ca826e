"""Start, stop and query a real Kubernetes test control plane on 127.0.0.1, with kwok's fake nodes.

    python tests/k8s/cluster.py start  --dir DIR [--nodes N] [--timeout S] [--no-build]
    python tests/k8s/cluster.py stop   --dir DIR
    python tests/k8s/cluster.py status --dir DIR

start builds the binaries if needed (tests/k8s/build.sh, cached in <repo>/.cache/bin), then runs
etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, each in a process group of
its own, all listening on 127.0.0.1 only (ports picked free at start). It makes a throwaway CA,
serving and client certificates and the service-account signing key (cryptography), registers N
fake nodes (kwok plays their kubelets: pods bound to them turn Running), and returns once the API
answers /readyz, every node is Ready and the "default" ServiceAccount exists. It writes:

    DIR/kubeconfig    admin kubeconfig (client certificate in group system:masters)
    DIR/cluster.env   KUBECONFIG=..., K8S_API_SERVER=..., KUBECTL=... (shell-sourceable)
    DIR/cluster.json  pids, ports, paths, versions
    DIR/logs/*.log    one log per component

stop ends every process that start recorded (SIGTERM to its process group, then SIGKILL) and may
be run any number of times. status prints DIR/cluster.json's processes and the API's health; it
exits 0 only when everything runs and the API is ready.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_BIN_DIR = os.path.join(REPO, ".cache", "bin")
HOST = "127.0.0.1"
SERVICE_CIDR = "10.96.0.0/16"
# Fake node addresses come from TEST-NET-1 (RFC 5737), pod addresses from 10.244.0.0/16: both are
# only data in the API (Endpoints refuse loopback addresses); nothing ever sends a packet to them.
NODE_IP_BASE = ipaddress.ip_address("192.0.2.10")
POD_CIDR_TEMPLATE = "10.244.{}.0/24"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


class ClusterError(Exception):
    pass


# ---------------------------------------------------------------- certificates


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path, key):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def _write_cert(path, cert):
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def _name(cn, org=None):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _sign(subject, public_key, issuer_name, issuer_key, ca=False, usages=(), sans=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(pki):
    """CA, apiserver serving cert, client certs and the service-account key pair, all under pki/."""
    os.makedirs(pki, exist_ok=True)
    ca_key = _key()
    ca_name = _name("microseg-test-kubernetes-ca")
    ca_cert = _sign(ca_name, ca_key.public_key(), ca_name, ca_key, ca=True)
    _write_key(os.path.join(pki, "ca.key"), ca_key)
    _write_cert(os.path.join(pki, "ca.crt"), ca_cert)

    service_ip = next(ipaddress.ip_network(SERVICE_CIDR).hosts())
    sans = [x509.IPAddress(ipaddress.ip_address(HOST)), x509.IPAddress(service_ip), x509.DNSName("localhost")]
    sans += [x509.DNSName(n) for n in ("kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local")]
    key = _key()
    _write_key(os.path.join(pki, "apiserver.key"), key)
    _write_cert(os.path.join(pki, "apiserver.crt"),
                _sign(_name("kube-apiserver"), key.public_key(), ca_name, ca_key, usages=[ExtendedKeyUsageOID.SERVER_AUTH], sans=sans))

    # Client identities: user name = CN, groups = O.
    clients = {
        "admin": ("kubernetes-admin", "system:masters"),
        "kube-controller-manager": ("system:kube-controller-manager", None),
        "kube-scheduler": ("system:kube-scheduler", None),
        # kwok writes node and pod status for every fake node, deletes pods and renews leases.
        "kwok": ("kwok-controller", "system:masters"),
    }
    for name, (cn, org) in clients.items():
        key = _key()
        _write_key(os.path.join(pki, name + ".key"), key)
        _write_cert(os.path.join(pki, name + ".crt"),
                    _sign(_name(cn, org), key.public_key(), ca_name, ca_key, usages=[ExtendedKeyUsageOID.CLIENT_AUTH]))

    # The aggregation layer's front proxy: a CA of its own and the client certificate the apiserver
    # presents to extension API servers (without it, every component logs a missing requestheader CA).
    fp_key = _key()
    fp_name = _name("microseg-test-front-proxy-ca")
    _write_key(os.path.join(pki, "front-proxy-ca.key"), fp_key)
    _write_cert(os.path.join(pki, "front-proxy-ca.crt"), _sign(fp_name, fp_key.public_key(), fp_name, fp_key, ca=True))
    key = _key()
    _write_key(os.path.join(pki, "front-proxy-client.key"), key)
    _write_cert(os.path.join(pki, "front-proxy-client.crt"),
                _sign(_name("front-proxy-client"), key.public_key(), fp_name, fp_key, usages=[ExtendedKeyUsageOID.CLIENT_AUTH]))

    sa_key = _key()
    _write_key(os.path.join(pki, "sa.key"), sa_key)
    with open(os.path.join(pki, "sa.pub"), "wb") as f:
        f.write(sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def _b64file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def write_kubeconfig(path, pki, server, client):
    """A self-contained kubeconfig (JSON is valid YAML) for the client certificate pki/<client>.crt."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "microseg-test", "cluster": {
            "server": server, "certificate-authority-data": _b64file(os.path.join(pki, "ca.crt"))}}],
        "users": [{"name": client, "user": {
            "client-certificate-data": _b64file(os.path.join(pki, client + ".crt")),
            "client-key-data": _b64file(os.path.join(pki, client + ".key"))}}],
        "contexts": [{"name": "microseg-test", "context": {"cluster": "microseg-test", "user": client}}],
        "current-context": "microseg-test",
    }
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------- processes and HTTP


def free_ports(names):
    """One free loopback port per name; all sockets stay open until all are chosen, so no two match."""
    socks = []
    try:
        while len(socks) < len(names):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.bind((HOST, 0))
        return {name: socks[i].getsockname()[1] for i, name in enumerate(names)}
    finally:
        for sock in socks:
            sock.close()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pid_is(pid, binary):
    """True if pid is alive and still runs binary (the pid may have been reused)."""
    if not pid_alive(pid):
        return False
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv0 = f.read().split(b"\0", 1)[0].decode(errors="replace")
    except OSError:
        return False
    return argv0 == binary


def launch(state, name, argv, log_dir, env=None):
    log_path = os.path.join(log_dir, name + ".log")
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env, close_fds=True)
    finally:
        log.close()
    state["processes"][name] = {"pid": proc.pid, "pgid": proc.pid, "binary": argv[0], "log": log_path}
    return proc


def stop_processes(state, timeout=10.0):
    """Stop every recorded process group in reverse start order (kwok first, etcd last), each with
    SIGTERM and, after timeout seconds, SIGKILL. Returns the names of those that were running."""
    procs = state.get("processes", {})
    names = [n for n in reversed(COMPONENTS) if n in procs] + [n for n in procs if n not in COMPONENTS]
    stopped = []
    for name in names:
        p = procs[name]
        if not pid_is(p["pid"], p["binary"]):
            continue
        try:
            os.killpg(p["pgid"], signal.SIGTERM)
        except ProcessLookupError:
            continue
        stopped.append(name)
        deadline = time.monotonic() + timeout
        while pid_alive(p["pid"]) and time.monotonic() < deadline:
            _reap(p["pid"])
            time.sleep(0.05)
        if pid_alive(p["pid"]):
            print("%s (pid %d) ignored SIGTERM for %ds; sending SIGKILL" % (name, p["pid"], timeout), file=sys.stderr)
            try:
                os.killpg(p["pgid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap(p["pid"])
    return stopped


def _reap(pid):
    """Collect pid's exit status if it is a child of this process (start's failure path), so that
    it does not linger as a zombie; a no-op for processes that a former start launched."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class Api:
    """Minimal HTTPS client for the apiserver with the admin client certificate."""

    def __init__(self, server, pki, client="admin"):
        self.server = server
        self.ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(pki, client + ".crt"), os.path.join(pki, client + ".key"))

    def request(self, method, path, body=None, timeout=10, content_type="application/json"):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        req.add_header("Accept", "application/json")
        with urllib.request.urlopen(req, context=self.ctx, timeout=timeout) as resp:
            raw = resp.read()
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode(errors="replace")


def wait_for(what, check, deadline, procs=(), interval=0.3):
    """Poll check() until it returns a true value or the deadline passes; fail early if a process died."""
    last_err = None
    while True:
        for name, proc in procs:
            if proc.poll() is not None:
                raise ClusterError("%s exited with status %s while waiting for %s" % (name, proc.returncode, what))
        try:
            result = check()
            if result:
                return result
        except (OSError, urllib.error.URLError, ValueError, KeyError, ssl.SSLError) as e:
            last_err = e
        if time.monotonic() > deadline:
            raise ClusterError("timed out waiting for %s%s" % (what, " (last error: %s)" % last_err if last_err else ""))
        time.sleep(interval)


def http_ok(url, ctx=None, expect=None):
    with urllib.request.urlopen(url, context=ctx, timeout=5) as resp:
        body = resp.read().decode(errors="replace")
        return resp.status == 200 and (expect is None or expect in body)


# ---------------------------------------------------------------- commands


def load_state(d):
    path = os.path.join(d, "cluster.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def save_state(d, state):
    path = os.path.join(d, "cluster.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def binary_versions(bin_dir):
    path = os.path.join(bin_dir, "versions.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {}


def node_manifest(i):
    name = "kwok-node-%d" % i
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {NODE_ANNOTATION[0]: NODE_ANNOTATION[1], "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/worker": "",
            },
        },
        "spec": {"podCIDR": POD_CIDR_TEMPLATE.format(i), "podCIDRs": [POD_CIDR_TEMPLATE.format(i)]},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": str(NODE_IP_BASE + i)},
                {"type": "Hostname", "address": name},
            ],
        },
    }


def nodes_ready(api, names):
    items = api.request("GET", "/api/v1/nodes")["items"]
    ready = set()
    for node in items:
        for cond in node.get("status", {}).get("conditions", []):
            if cond["type"] == "Ready" and cond["status"] == "True":
                ready.add(node["metadata"]["name"])
        # The node lifecycle controller removes its not-ready taint once it has seen the node Ready.
        if any(t.get("key") == "node.kubernetes.io/not-ready" for t in node.get("spec", {}).get("taints", []) or []):
            ready.discard(node["metadata"]["name"])
    return set(names) <= ready


def cmd_start(args):
    if not 1 <= args.nodes <= 200:
        raise ClusterError("--nodes must be between 1 and 200")
    d = os.path.abspath(args.dir)
    bin_dir = os.path.abspath(args.bin_dir)
    os.makedirs(d, exist_ok=True)
    old = load_state(d)
    if old and any(pid_is(p["pid"], p["binary"]) for p in old.get("processes", {}).values()):
        raise ClusterError("a cluster started from %s still runs; stop it first: python %s stop --dir %s" % (d, __file__, d))

    t0 = time.monotonic()
    if not args.no_build:
        subprocess.run([os.path.join(HERE, "build.sh")], check=True, stdout=sys.stderr)
    binaries = {n: os.path.join(bin_dir, n) for n in COMPONENTS + ("kubectl",)}
    for path in binaries.values():
        if not os.access(path, os.X_OK):
            raise ClusterError("%s not found: run tests/k8s/build.sh" % path)

    for sub in ("pki", "etcd-data", "logs", "home"):
        shutil.rmtree(os.path.join(d, sub), ignore_errors=True)
    for f in ("cluster.env", "kubeconfig"):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))
    pki, logs, home = (os.path.join(d, s) for s in ("pki", "logs", "home"))
    os.makedirs(logs)
    os.makedirs(home)
    make_pki(pki)

    ports = free_ports(("etcd_client", "etcd_peer", "apiserver", "controller_manager", "scheduler"))
    server = "https://%s:%d" % (HOST, ports["apiserver"])
    kubeconfigs = {}
    for client in ("admin", "kube-controller-manager", "kube-scheduler", "kwok"):
        path = os.path.join(d, "kubeconfig") if client == "admin" else os.path.join(pki, client + ".kubeconfig")
        write_kubeconfig(path, pki, server, client)
        kubeconfigs[client] = path

    state = {
        "dir": d, "bin_dir": bin_dir, "server": server, "host": HOST, "ports": ports,
        "kubeconfig": kubeconfigs["admin"], "ca": os.path.join(pki, "ca.crt"),
        "service_cidr": SERVICE_CIDR, "nodes": ["kwok-node-%d" % i for i in range(args.nodes)],
        "versions": binary_versions(bin_dir), "processes": {}, "state": "starting",
    }
    save_state(d, state)
    # The components get a clean environment: no KUBECONFIG of the caller, HOME inside DIR.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8"}
    deadline = time.monotonic() + args.timeout
    running = []
    try:
        etcd_url = "http://%s:%d" % (HOST, ports["etcd_client"])
        peer_url = "http://%s:%d" % (HOST, ports["etcd_peer"])
        running.append(("etcd", launch(state, "etcd", [
            binaries["etcd"], "--name=test", "--data-dir=" + os.path.join(d, "etcd-data"),
            "--listen-client-urls=" + etcd_url, "--advertise-client-urls=" + etcd_url,
            "--listen-peer-urls=" + peer_url, "--initial-advertise-peer-urls=" + peer_url,
            "--initial-cluster=test=" + peer_url, "--initial-cluster-state=new",
            # A throwaway store: skipping fsync makes every write much cheaper on a test machine.
            "--unsafe-no-fsync", "--log-level=warn",
        ], logs, env)))
        save_state(d, state)
        wait_for("etcd /health", lambda: http_ok(etcd_url + "/health", expect='"health":"true"'), deadline, running)

        running.append(("kube-apiserver", launch(state, "kube-apiserver", [
            binaries["kube-apiserver"],
            "--bind-address=" + HOST, "--advertise-address=" + HOST, "--secure-port=%d" % ports["apiserver"],
            "--etcd-servers=" + etcd_url,
            "--cert-dir=" + pki,
            "--tls-cert-file=" + os.path.join(pki, "apiserver.crt"),
            "--tls-private-key-file=" + os.path.join(pki, "apiserver.key"),
            "--client-ca-file=" + os.path.join(pki, "ca.crt"),
            "--requestheader-client-ca-file=" + os.path.join(pki, "front-proxy-ca.crt"),
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            "--proxy-client-cert-file=" + os.path.join(pki, "front-proxy-client.crt"),
            "--proxy-client-key-file=" + os.path.join(pki, "front-proxy-client.key"),
            "--service-cluster-ip-range=" + SERVICE_CIDR,
            "--service-node-port-range=30000-32767",
            "--service-account-issuer=" + SA_ISSUER,
            "--service-account-key-file=" + os.path.join(pki, "sa.pub"),
            "--service-account-signing-key-file=" + os.path.join(pki, "sa.key"),
            "--authorization-mode=Node,RBAC",
            "--allow-privileged=true",
            # Endpoints may not hold loopback addresses, so the apiserver does not publish its own
            # (127.0.0.1) in default/kubernetes; nothing inside the fake cluster would dial it anyway.
            "--endpoint-reconciler-type=none",
            "--profiling=false",
            "--v=1",
        ], logs, env)))
        save_state(d, state)
        api = Api(server, pki)
        wait_for("kube-apiserver /readyz", lambda: api.request("GET", "/readyz", timeout=5) == "ok", deadline, running)

        common = ["--bind-address=" + HOST, "--leader-elect=false", "--profiling=false", "--v=1"]
        running.append(("kube-controller-manager", launch(state, "kube-controller-manager", [
            binaries["kube-controller-manager"],
            "--kubeconfig=" + kubeconfigs["kube-controller-manager"],
            "--authentication-kubeconfig=" + kubeconfigs["kube-controller-manager"],
            "--authorization-kubeconfig=" + kubeconfigs["kube-controller-manager"],
            "--secure-port=%d" % ports["controller_manager"], "--cert-dir=" + os.path.join(pki, "kcm-serving"),
            "--controllers=*,bootstrapsigner,tokencleaner",
            "--use-service-account-credentials=true",
            "--service-account-private-key-file=" + os.path.join(pki, "sa.key"),
            "--root-ca-file=" + os.path.join(pki, "ca.crt"),
            "--cluster-signing-cert-file=" + os.path.join(pki, "ca.crt"),
            "--cluster-signing-key-file=" + os.path.join(pki, "ca.key"),
            "--service-cluster-ip-range=" + SERVICE_CIDR,
            "--allocate-node-cidrs=false",
            "--concurrent-deployment-syncs=2", "--concurrent-daemonset-syncs=2",
        ] + common, logs, env)))
        running.append(("kube-scheduler", launch(state, "kube-scheduler", [
            binaries["kube-scheduler"],
            "--kubeconfig=" + kubeconfigs["kube-scheduler"],
            "--authentication-kubeconfig=" + kubeconfigs["kube-scheduler"],
            "--authorization-kubeconfig=" + kubeconfigs["kube-scheduler"],
            "--secure-port=%d" % ports["scheduler"], "--cert-dir=" + os.path.join(pki, "scheduler-serving"),
        ] + common, logs, env)))
        save_state(d, state)
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE  # self-signed serving certs of the two components, loopback only
        for name, key in (("kube-controller-manager", "controller_manager"), ("kube-scheduler", "scheduler")):
            url = "https://%s:%d/healthz" % (HOST, ports[key])
            wait_for(name + " /healthz", lambda url=url: http_ok(url, insecure, "ok"), deadline, running)

        # Nodes are registered before kwok starts, with their addresses and pod CIDR already in place.
        for i in range(args.nodes):
            api.request("POST", "/api/v1/nodes", node_manifest(i))
        running.append(("kwok", launch(state, "kwok", [
            binaries["kwok"],
            "--kubeconfig=" + kubeconfigs["kwok"],
        ] + [
            # Out of kwokctl, the kwok binary has no stages of its own ("no stages found") and the
            # Stage CRD is not installed here: the stages come from our files, one --config each.
            "--config=" + os.path.join(HERE, "kwok-stages", f) for f in sorted(os.listdir(os.path.join(HERE, "kwok-stages"))) if f.endswith(".yaml")
        ] + [
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=%s=%s" % NODE_ANNOTATION,
            "--manage-nodes-with-label-selector=",
            "--manage-single-node=",
            "--cidr=10.244.255.0/24",
            "--node-ip=" + str(NODE_IP_BASE),
            "--node-lease-duration-seconds=40",
        ], logs, env)))
        save_state(d, state)
        wait_for("%d Ready nodes" % args.nodes, lambda: nodes_ready(api, state["nodes"]), deadline, running)
        wait_for("the default ServiceAccount", lambda: api.request("GET", "/api/v1/namespaces/default/serviceaccounts/default"),
                 deadline, running)
    except BaseException as e:
        stop_processes(state)
        state["state"] = "failed"
        save_state(d, state)
        if isinstance(e, (ClusterError, urllib.error.URLError, OSError, subprocess.CalledProcessError)):
            for name in state["processes"]:
                log = state["processes"][name]["log"]
                print("---- last lines of %s" % log, file=sys.stderr)
                with open(log, errors="replace") as f:
                    print("".join(f.readlines()[-15:]), file=sys.stderr)
            raise ClusterError("start failed: %s" % e) from e
        raise

    state["state"] = "running"
    state["start_seconds"] = round(time.monotonic() - t0, 1)
    save_state(d, state)
    with open(os.path.join(d, "cluster.env"), "w") as f:
        f.write("KUBECONFIG=%s\nK8S_AUTH_KUBECONFIG=%s\nK8S_API_SERVER=%s\nK8S_CA_CERT=%s\nKUBECTL=%s\nK8S_CLUSTER_DIR=%s\n" % (
            kubeconfigs["admin"], kubeconfigs["admin"], server, state["ca"], binaries["kubectl"], d))
    print("kubernetes test cluster runs at %s with %d kwok nodes (%.1fs); KUBECONFIG=%s; settings in %s"
          % (server, args.nodes, state["start_seconds"], kubeconfigs["admin"], os.path.join(d, "cluster.env")))
    return 0


def cmd_stop(args):
    d = os.path.abspath(args.dir)
    state = load_state(d)
    if not state:
        print("no cluster started from %s" % d)
        return 0
    stopped = stop_processes(state)
    state["state"] = "stopped"
    save_state(d, state)
    if os.path.exists(os.path.join(d, "cluster.env")):
        os.remove(os.path.join(d, "cluster.env"))
    print("kubernetes test cluster in %s stopped (%s)" % (d, ", ".join(stopped) or "nothing was running"))
    return 0


def cmd_status(args):
    d = os.path.abspath(args.dir)
    state = load_state(d)
    if not state:
        print("no cluster started from %s" % d)
        return 1
    ok = True
    report = {"dir": d, "state": state.get("state"), "server": state.get("server"), "processes": {}}
    for name, p in state.get("processes", {}).items():
        alive = pid_is(p["pid"], p["binary"])
        ok = ok and alive
        report["processes"][name] = {"pid": p["pid"], "running": alive}
    try:
        api = Api(state["server"], os.path.join(d, "pki"))
        report["readyz"] = api.request("GET", "/readyz", timeout=5)
        nodes = api.request("GET", "/api/v1/nodes")["items"]
        report["nodes"] = {
            n["metadata"]["name"]: next((c["status"] for c in n.get("status", {}).get("conditions", []) if c["type"] == "Ready"), "Unknown")
            for n in nodes}
        ok = ok and report["readyz"] == "ok"
    except (OSError, urllib.error.URLError, ValueError, KeyError, ssl.SSLError) as e:
        report["readyz"] = "unreachable: %s" % e
        ok = False
    print(json.dumps(report, indent=2))
    return 0 if ok else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "status"):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True, help="directory for certificates, data, logs, kubeconfig and cluster.json")
        if name == "start":
            p.add_argument("--nodes", type=int, default=3, help="number of kwok fake nodes (default 3)")
            p.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the whole start (default 180)")
            p.add_argument("--bin-dir", default=DEFAULT_BIN_DIR, help="where build.sh put the binaries (default <repo>/.cache/bin)")
            p.add_argument("--no-build", action="store_true", help="do not run tests/k8s/build.sh first")
    args = parser.parse_args(argv)
    try:
        return {"start": cmd_start, "stop": cmd_stop, "status": cmd_status}[args.command](args)
    except ClusterError as e:
        print("cluster.py: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
