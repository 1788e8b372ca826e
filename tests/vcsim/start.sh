#!/usr/bin/env bash
# Start VMware's vCenter simulator (vcsim) on 127.0.0.1, on a free port, for the tests.
#
#   tests/vcsim/start.sh DIR [extra vcsim flags...]
#
# Builds vcsim first if needed (build.sh). Serves HTTPS with a CA made here (DIR/ca.pem) and a
# server certificate for 127.0.0.1, and one user with a random password. The inventory is small:
# datacenter DC0, cluster DC0_C0 with hosts DC0_C0_H0 and DC0_C0_H1, datastore LocalDS_0, networks
# "VM Network" and DC0_DVPG0, and the two VMs DC0_C0_RP0_VM0 and DC0_C0_RP0_VM1 in /DC0/vm (the
# tests add their own). Extra arguments are passed to vcsim (see `vcsim -h`).
# Writes DIR/vcsim.env (KEY=VALUE, shell-sourceable) and returns once vcsim answers:
#   VCENTER_HOSTNAME VCENTER_PORT VCENTER_USERNAME VCENTER_PASSWORD VCENTER_URL VCENTER_CA_PATH
#   VMWARE_HOST VMWARE_PORT VMWARE_USER VMWARE_PASSWORD VMWARE_CA_PATH (the modules' fallbacks)
#   VCSIM_PID
# Stop it with tests/vcsim/stop.sh DIR. It only ever listens on the loopback address.
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 DIR [extra vcsim flags...]" >&2
    exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
mkdir -p "$1"
dir="$(cd "$1" && pwd)"
shift
bin="$repo/.cache/bin/vcsim"
listen_host="127.0.0.1"
# vcsim (v0.46.3) rejects logins whose user name has an "@" (as in administrator@vsphere.local).
username="vcsim-admin"
start_timeout="${VCSIM_START_TIMEOUT:-60}"

if [ -f "$dir/vcsim.pid" ] && kill -0 "$(cat "$dir/vcsim.pid")" 2>/dev/null; then
    echo "vcsim already runs from $dir (pid $(cat "$dir/vcsim.pid")); stop it first: $here/stop.sh $dir" >&2
    exit 1
fi
rm -f "$dir/vcsim.env" "$dir/vcsim.pid"

"$here/build.sh" >&2

# A throwaway CA and a server certificate for 127.0.0.1, so clients can verify TLS.
tls="$dir/tls"
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=vcsim test CA" \
    -keyout "$tls/ca.key" -out "$dir/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=$listen_host" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
    "$listen_host" > "$tls/server.ext"
openssl x509 -req -days 7 -in "$tls/server.csr" -CA "$dir/ca.pem" -CAkey "$tls/ca.key" -CAserial "$tls/ca.srl" -CAcreateserial \
    -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
password="$(openssl rand -hex 16)"

# vcsim writes "export GOVC_URL=https://user:pass@127.0.0.1:PORT/sdk GOVC_SIM_PID=N" into this
# existing file once it listens. Its datastore files go under DIR (TMPDIR).
(umask 077; : > "$dir/vcsim.out")
mkdir -p "$dir/tmp"
TMPDIR="$dir/tmp" setsid "$bin" \
    -l "$listen_host:0" -E "$dir/vcsim.out" \
    -username "$username" -password "$password" \
    -tlscert "$tls/server.pem" -tlskey "$tls/server.key" \
    -dc 1 -cluster 1 -host 2 -vm 2 -standalone-host 0 -ds 1 -pg 1 -pool 0 -app 0 -folder 0 \
    "$@" </dev/null >"$dir/vcsim.log" 2>&1 &
pid=$!
echo "$pid" > "$dir/vcsim.pid"

fail() {
    echo "start.sh: $1" >&2
    tail -n 20 "$dir/vcsim.log" >&2 || true
    kill "$pid" 2>/dev/null || true
    rm -f "$dir/vcsim.pid"
    exit 1
}

port=""
deadline=$(( $(date +%s) + start_timeout ))
while [ -z "$port" ]; do
    kill -0 "$pid" 2>/dev/null || fail "vcsim exited during start-up (log: $dir/vcsim.log)"
    port="$(sed -n 's|.*GOVC_URL=https://[^ ]*@127\.0\.0\.1:\([0-9][0-9]*\)/sdk.*|\1|p' "$dir/vcsim.out")"
    [ -n "$port" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || fail "vcsim did not report its address within ${start_timeout}s"
    sleep 0.2
done

url="https://$listen_host:$port/sdk"
# Ready when the SOAP endpoint answers over verified TLS.
until curl --silent --fail --output /dev/null --max-time 5 --cacert "$dir/ca.pem" \
        "https://$listen_host:$port/sdk/vimServiceVersions.xml"; do
    kill -0 "$pid" 2>/dev/null || fail "vcsim exited during start-up (log: $dir/vcsim.log)"
    [ "$(date +%s)" -lt "$deadline" ] || fail "vcsim did not answer on $url within ${start_timeout}s"
    sleep 0.2
done

umask 077
cat > "$dir/vcsim.env" <<ENV
VCENTER_HOSTNAME=$listen_host
VCENTER_PORT=$port
VCENTER_USERNAME=$username
VCENTER_PASSWORD=$password
VCENTER_URL=$url
VCENTER_CA_PATH=$dir/ca.pem
VMWARE_HOST=$listen_host
VMWARE_PORT=$port
VMWARE_USER=$username
VMWARE_PASSWORD=$password
VMWARE_CA_PATH=$dir/ca.pem
VCSIM_PID=$pid
ENV
echo "vcsim (pid $pid) answers on $url; settings in $dir/vcsim.env"
