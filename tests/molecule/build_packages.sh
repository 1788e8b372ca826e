#!/usr/bin/env bash
# Build FAKE vendor packages and two signed apt repositories for the Molecule scenarios.
# The vendors' real packages cannot be downloaded here; these test doubles keep the vendors'
# package, service and file names and behave just enough like the agents to test the roles:
# they refuse to start without their mandatory settings, record every start, publish the
# settings they received, and own one iptables chain each (see the scripts below).
#
# Output: <repo>/.cache/molecule-repo (mounted read-only at /srv/microseg-repo in the containers)
#   keys/microseg-test-repo.asc   public key, armored  (apt: signed-by=<this>)
#   keys/microseg-test-repo.gpg   public key, binary
#   keys/gnupg/                   the private key (generated once, kept across rebuilds)
#   prisma/debian/bookworm        deb [signed-by=KEY] file:///srv/microseg-repo/prisma/debian/bookworm aporeto main
#   secure-workload/debian        deb [signed-by=KEY] file:///srv/microseg-repo/secure-workload/debian bookworm main
#   prisma-1.0.0/..., secure-workload-1.0.0/...  the same repositories with version 1.0.0 only
#                                 (an "old" repository, for upgrade tests by switching the URI)
#   sources/*.sources, *.list     ready-made apt source entries with the container paths
#   packages/*.deb                every package built
#
# Both versions (1.0.0 and 1.1.0) are in the main repositories: apt installs 1.1.0 by default,
# `apt-get install prisma-enforcer=1.0.0` pins the old one.
#
# Skipped when the output exists and this script is unchanged (FORCE=1 rebuilds; the signing
# key is kept unless keys/ is removed). Knobs (environment):
#   OUT       output directory (default <repo>/.cache/molecule-repo)
#   SUITE     Debian codename of the repositories (default bookworm)
#   FORCE=1   rebuild even when up to date
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="${OUT:-$REPO/.cache/molecule-repo}"
SUITE="${SUITE:-bookworm}"
VERSIONS=(1.0.0 1.1.0)
MOUNT=/srv/microseg-repo           # where the containers see $OUT
KEYNAME=microseg-test-repo

for cmd in dpkg-deb apt-ftparchive gpg; do
  command -v "$cmd" >/dev/null || { echo "build_packages: $cmd missing (run setup_podman.sh)" >&2; exit 1; }
done

hash="$( { sha256sum <"${BASH_SOURCE[0]}"; echo "$SUITE"; } | sha256sum | cut -c1-16)"
if [ "${FORCE:-0}" != 1 ] && [ "$(cat "$OUT/.build-hash" 2>/dev/null)" = "$hash" ] \
   && [ -f "$OUT/prisma/debian/$SUITE/dists/aporeto/InRelease" ] \
   && [ -f "$OUT/secure-workload/debian/dists/$SUITE/InRelease" ]; then
  echo "build_packages: $OUT is up to date ($hash)"
  exit 0
fi

start=$(date +%s)
mkdir -p "$OUT"
# Everything but the signing key is rebuilt.
find "$OUT" -mindepth 1 -maxdepth 1 ! -name keys -exec rm -rf {} +
WORK="$(mktemp -d)"
export GNUPGHOME="$OUT/keys/gnupg"
cleanup() {
  rm -rf "$WORK"
  # stop the gpg-agent this script started for its own GNUPGHOME
  gpgconf --kill gpg-agent 2>/dev/null || true
}
trap cleanup EXIT

# ------------------------------------------------------------------ signing key
mkdir -p "$GNUPGHOME"
chmod 700 "$GNUPGHOME"
if ! gpg --batch --list-secret-keys "$KEYNAME" >/dev/null 2>&1; then
  echo "build_packages: generating the repository signing key"
  gpg --batch --quiet --passphrase '' \
      --quick-gen-key "$KEYNAME (microseg Molecule tests, not a vendor key) <$KEYNAME@example.invalid>" \
      ed25519 sign never
fi
gpg --batch --yes --armor --export "$KEYNAME" >"$OUT/keys/$KEYNAME.asc"
gpg --batch --yes --export "$KEYNAME" >"$OUT/keys/$KEYNAME.gpg"
chmod 644 "$OUT/keys/$KEYNAME.asc" "$OUT/keys/$KEYNAME.gpg"
chmod 755 "$OUT/keys"

# ------------------------------------------------------------------ package helpers
# new_pkg NAME VERSION -> prints the staging root, with DEBIAN/control written
new_pkg() {
  local name=$1 version=$2 desc=$3 root="$WORK/$1_$2"
  mkdir -p "$root/DEBIAN"
  cat >"$root/DEBIAN/control" <<CTRL
Package: $name
Version: $version
Architecture: all
Maintainer: microseg Molecule tests <$KEYNAME@example.invalid>
Depends: iptables, systemd | systemd-sysv
Section: net
Priority: optional
Description: FAKE $desc (test double)
 Not the vendor's software. Built by tests/molecule/build_packages.sh of the
 microseg.segmentation collection for its Molecule scenarios: same package,
 service and file names as the vendor's, with a shell script in place of
 the agent.
CTRL
  echo "$root"
}

build_pkg() {
  local root=$1
  find "$root" -type d -exec chmod 755 {} +
  dpkg-deb --root-owner-group -Zxz --build "$root" "$OUT/packages/" >/dev/null
}

mkdir -p "$OUT/packages"

# ------------------------------------------------------------------ prisma-enforcer
# Prisma Cloud Microsegmentation enforcer (Linux host install): package prisma-enforcer,
# unit prisma-enforcer.service, settings in /var/lib/prisma-enforcer/prisma-enforcer.conf
# (ENFORCERD_* variables, read by the unit as EnvironmentFile). The conf is NOT shipped.
# ------------------------------------------------------------------ what both fake agents do
# Both scripts define log(), CHAIN, FLUSH_KNOB, STATE and families before this part.
agent_chains() {
  cat <<'SCRIPT'
remove_own() {
  # Every jump to the chain (as -S lists them), then the chain; a few attempts, since another
  # program may change the ruleset at the same moment (nf_tables then refuses a commit).
  local t attempt rule
  for t in iptables ip6tables; do
    command -v "$t" >/dev/null || continue
    for attempt in 1 2 3 4 5; do
      while read -r rule; do
        # shellcheck disable=SC2086  # the rule is re-split into its arguments on purpose
        "$t" -w -D ${rule#-A } 2>/dev/null || true
      done < <("$t" -w -S INPUT 2>/dev/null | grep -E -- "-j $CHAIN( |\$)")
      "$t" -w -S "$CHAIN" >/dev/null 2>&1 || continue 2
      if "$t" -w -F "$CHAIN" 2>/dev/null && "$t" -w -X "$CHAIN" 2>/dev/null; then continue 2; fi
      log "attempt $attempt: could not remove $t chain $CHAIN yet; INPUT is: $("$t" -w -S INPUT | tr '\n' ';')"
      sleep 0.5
    done
    log "could not remove $t chain $CHAIN"
  done
}

if [ -e "$FLUSH_KNOB" ]; then
  log "test knob $FLUSH_KNOB present: flushing INPUT (iptables and ip6tables)"
  iptables -w -F INPUT || die "iptables -F INPUT failed"
  ip6tables -w -F INPUT || log "ip6tables -F INPUT failed"
fi
for t in "${families[@]}"; do
  if "$t" -w -S "$CHAIN" >/dev/null 2>&1; then
    "$t" -w -F "$CHAIN" || die "$t -F $CHAIN failed"
  else
    "$t" -w -N "$CHAIN" || die "$t -N $CHAIN failed"
  fi
  "$t" -w -A "$CHAIN" -j RETURN || die "$t -A $CHAIN failed"
  "$t" -w -C INPUT -j "$CHAIN" 2>/dev/null || "$t" -w -I INPUT 1 -j "$CHAIN" || die "$t -I INPUT failed"
done
SCRIPT
}

agent_wait() {
  cat <<'SCRIPT'
stopping=0
on_term() {
  stopping=1
  [ -n "${sleeper:-}" ] && kill "$sleeper" 2>/dev/null
  remove_own
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) version=$VERSION pid=$$" >>"$STATE/stops.log"
  log "stopped"
  exit 0
}
trap on_term TERM INT
while [ "$stopping" = 0 ]; do
  sleep infinity &
  sleeper=$!
  wait "$sleeper"
done
SCRIPT
}

# prerm of both fake agents: on removal, stop the service so that it removes its own chains.
prerm_stopping() {
  cat <<EOF
#!/bin/sh
set -e
if [ "\$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl stop $1.service || true
  systemctl disable $1.service >/dev/null 2>&1 || true
fi
exit 0
EOF
}

prisma_script() {
  cat <<'SCRIPT'
#!/bin/bash
# FAKE prisma-enforcer (Prisma Cloud Microsegmentation enforcer), a test double built by
# tests/molecule/build_packages.sh of microseg.segmentation. It is not the vendor's agent.
#
# At start:
#   - exits 1 when ENFORCERD_API or ENFORCERD_NAMESPACE is empty (the unit reads them from
#     /var/lib/prisma-enforcer/prisma-enforcer.conf)
#   - appends "<UTC date> version=<package version> conf_sha256=<sha256 of the conf> pid=<pid>"
#     to /var/lib/prisma-enforcer/fake/starts.log
#   - writes every ENFORCERD_* and CNS_AGENT_* variable it received, sorted, as KEY=VALUE
#     lines to /run/prisma-enforcer/effective.env
#   - TEST KNOB: when /etc/prisma-enforcer/fake-flush-on-start exists it runs
#     `iptables -F INPUT` and `ip6tables -F INPUT` first, like a vendor agent that clobbers
#     the host's own rules (tests of a role's rule preservation use it)
#   - creates its own filter chain PRISMA-ENFORCER (one RETURN rule) with a jump from the top of
#     INPUT; the same with ip6tables only when ENFORCERD_ENABLE_IPV6=true
# Then it waits; on SIGTERM/SIGINT it removes only its own jumps and chains (in both families),
# appends a line to /var/lib/prisma-enforcer/fake/stops.log and exits 0.
set -u
VERSION=@VERSION@
CONF=/var/lib/prisma-enforcer/prisma-enforcer.conf
STATE=/var/lib/prisma-enforcer/fake
RUN=/run/prisma-enforcer
CHAIN=PRISMA-ENFORCER
FLUSH_KNOB=/etc/prisma-enforcer/fake-flush-on-start

log() { echo "prisma-enforcer[$VERSION]: $*" >&2; }
die() { log "$*"; exit 1; }

[ -n "${ENFORCERD_API:-}" ] || die "ENFORCERD_API is empty or unset (expected in $CONF)"
[ -n "${ENFORCERD_NAMESPACE:-}" ] || die "ENFORCERD_NAMESPACE is empty or unset (expected in $CONF)"

mkdir -p "$STATE" "$RUN"
if [ -r "$CONF" ]; then conf_sha=$(sha256sum <"$CONF" | cut -d' ' -f1); else conf_sha=none; fi
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) version=$VERSION conf_sha256=$conf_sha pid=$$" >>"$STATE/starts.log"
env | grep -E '^(ENFORCERD|CNS_AGENT)_[A-Za-z0-9_]*=' | LC_ALL=C sort >"$RUN/effective.env.tmp"
mv -f "$RUN/effective.env.tmp" "$RUN/effective.env"

families=(iptables)
case "${ENFORCERD_ENABLE_IPV6:-false}" in
  true|True|TRUE) families+=(ip6tables) ;;
esac

SCRIPT
  agent_chains
  cat <<'SCRIPT'
log "started (families: ${families[*]}, api: $ENFORCERD_API, namespace: $ENFORCERD_NAMESPACE)"

SCRIPT
  agent_wait
}

prisma_unit() {
  cat <<'UNIT'
[Unit]
Description=Prisma Cloud Microsegmentation enforcer (FAKE test double)
Documentation=file:///usr/sbin/prisma-enforcer
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
EnvironmentFile=/var/lib/prisma-enforcer/prisma-enforcer.conf
ExecStart=/usr/sbin/prisma-enforcer
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT
}

for v in "${VERSIONS[@]}"; do
  root="$(new_pkg prisma-enforcer "$v" "Prisma Cloud Microsegmentation enforcer")"
  install -d "$root/usr/sbin" "$root/lib/systemd/system" "$root/var/lib/prisma-enforcer"
  prisma_script | sed "s/@VERSION@/$v/" >"$root/usr/sbin/prisma-enforcer"
  chmod 755 "$root/usr/sbin/prisma-enforcer"
  prisma_unit >"$root/lib/systemd/system/prisma-enforcer.service"
  chmod 644 "$root/lib/systemd/system/prisma-enforcer.service"
  # postinst: reload units only; never start or restart the service (the role does).
  cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
EOF
  prerm_stopping prisma-enforcer >"$root/DEBIAN/prerm"
  # postrm: the conf (written by the role) stays; purge removes the fake's records.
  cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = purge ]; then rm -rf /var/lib/prisma-enforcer/fake /run/prisma-enforcer; fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
EOF
  chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
  build_pkg "$root"
done

# ------------------------------------------------------------------ tet-sensor (Secure Workload)
# Cisco Secure Workload (formerly Tetration) Linux agent: Debian package tet-sensor installed
# under /usr/local/tet, settings in /usr/local/tet/user.cfg (ACTIVATION_KEY=, HTTPS_PROXY=,
# INSTALLATION_ID=, ...; written by Cisco's installer script before dpkg -i, so NOT shipped),
# agent type in /usr/local/tet/sensor_type (enforcer | visibility), systemd unit
# /etc/systemd/system/csw-agent.service (tet-sensor.service before the rename) with
# WorkingDirectory=/usr/local/tet. The unit is put there by postinst, as the vendor's installer
# expects it there, and removed by postrm.
csw_script() {
  cat <<'SCRIPT'
#!/bin/bash
# FAKE csw-agent (Cisco Secure Workload agent, package tet-sensor), a test double built by
# tests/molecule/build_packages.sh of microseg.segmentation. It is not the vendor's agent.
#
# At start:
#   - reads /usr/local/tet/user.cfg (KEY=VALUE lines, not sourced; the last of a key wins) and
#     exits 1 when the file is missing or ACTIVATION_KEY is empty
#   - appends "<UTC date> version=<package version> user_cfg_sha256=<sha256> sensor_type=<type>
#     pid=<pid>" to /usr/local/tet/fake/starts.log
#   - writes the settings it read, sorted, as KEY=VALUE lines to /run/csw-agent/effective.cfg
#   - TEST KNOB: when /etc/tet/fake-flush-on-start exists it runs `iptables -F INPUT` and
#     `ip6tables -F INPUT` first, like an agent that takes over the host firewall
#   - when /usr/local/tet/sensor_type is not "visibility" (absent means enforcer): creates its
#     own filter chain TA_INPUT (one RETURN rule) with a jump from the top of INPUT, and the same
#     with ip6tables when the IPv6 stack is enabled (net.ipv6.conf.all.disable_ipv6 = 0)
# Then it waits; on SIGTERM/SIGINT it removes only its own jumps and chains, appends a line to
# /usr/local/tet/fake/stops.log and exits 0.
set -u
VERSION=@VERSION@
BASE=/usr/local/tet
CFG=$BASE/user.cfg
STATE=$BASE/fake
RUN=/run/csw-agent
CHAIN=TA_INPUT
FLUSH_KNOB=/etc/tet/fake-flush-on-start

log() { echo "csw-agent[$VERSION]: $*" >&2; }
die() { log "$*"; exit 1; }

[ -r "$CFG" ] || die "$CFG is missing"
declare -A cfg=()
while IFS= read -r line || [ -n "$line" ]; do
  line="${line%$'\r'}"
  case "$line" in ''|'#'*) continue ;; esac
  [[ "$line" == *=* ]] || continue
  key="${line%%=*}"; key="${key//[[:space:]]/}"
  cfg[$key]="${line#*=}"
done <"$CFG"
[ -n "${cfg[ACTIVATION_KEY]:-}" ] || die "ACTIVATION_KEY is empty or unset in $CFG"

sensor_type=enforcer
[ -r "$BASE/sensor_type" ] && sensor_type="$(tr -d '[:space:]' <"$BASE/sensor_type")"
[ -n "$sensor_type" ] || sensor_type=enforcer

mkdir -p "$STATE" "$RUN"
cfg_sha=$(sha256sum <"$CFG" | cut -d' ' -f1)
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) version=$VERSION user_cfg_sha256=$cfg_sha sensor_type=$sensor_type pid=$$" >>"$STATE/starts.log"
for key in "${!cfg[@]}"; do printf '%s=%s\n' "$key" "${cfg[$key]}"; done | LC_ALL=C sort >"$RUN/effective.cfg.tmp"
mv -f "$RUN/effective.cfg.tmp" "$RUN/effective.cfg"

families=()
if [ "$sensor_type" != visibility ]; then
  families=(iptables)
  [ "$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null)" = 0 ] && families+=(ip6tables)
fi

SCRIPT
  agent_chains
  cat <<'SCRIPT'
log "started (sensor_type: $sensor_type, families: ${families[*]:-none})"

SCRIPT
  agent_wait
}

csw_unit() {
  cat <<'UNIT'
[Unit]
Description=Cisco Secure Workload Agent (FAKE test double)
Documentation=file:///usr/local/tet/csw-agent
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
WorkingDirectory=/usr/local/tet
ExecStart=/usr/local/tet/csw-agent
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT
}

for v in "${VERSIONS[@]}"; do
  root="$(new_pkg tet-sensor "$v" "Cisco Secure Workload agent")"
  install -d "$root/usr/local/tet/conf" "$root/usr/local/tet/cert" "$root/usr/local/tet/log"
  csw_script | sed "s/@VERSION@/$v/" >"$root/usr/local/tet/csw-agent"
  chmod 755 "$root/usr/local/tet/csw-agent"
  csw_unit >"$root/usr/local/tet/conf/csw-agent.service"
  echo "FAKE Cisco Secure Workload agent $v for tests; not Cisco software." >"$root/usr/local/tet/LICENSE"
  echo "$v" >"$root/usr/local/tet/conf/version"
  chmod 644 "$root/usr/local/tet/conf/csw-agent.service" "$root/usr/local/tet/LICENSE" "$root/usr/local/tet/conf/version"
  cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
# The vendor's unit lives in /etc/systemd/system; put it there, reload, never start.
install -m 644 /usr/local/tet/conf/csw-agent.service /etc/systemd/system/csw-agent.service
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
EOF
  prerm_stopping csw-agent >"$root/DEBIAN/prerm"
  cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
case "$1" in
  remove|purge)
    rm -f /etc/systemd/system/csw-agent.service
    if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
    ;;
esac
# user.cfg and sensor_type (written by the installer or the role) stay; purge removes the
# fake's records.
if [ "$1" = purge ]; then rm -rf /usr/local/tet/fake /run/csw-agent; fi
exit 0
EOF
  chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
  build_pkg "$root"
done

# ------------------------------------------------------------------ repositories
ARCH="$(dpkg --print-architecture)"

# make_repo DIR SUITE COMPONENT ORIGIN LABEL DEB...
make_repo() {
  local dir=$1 suite=$2 comp=$3 origin=$4 label=$5; shift 5
  local deb name pool
  for deb in "$@"; do
    name="$(dpkg-deb -f "$deb" Package)"
    pool="$dir/pool/$comp/${name:0:1}/$name"
    mkdir -p "$pool"
    cp "$deb" "$pool/"
  done
  mkdir -p "$dir/dists/$suite/$comp/binary-$ARCH"
  (
    cd "$dir"
    apt-ftparchive packages "pool/$comp" >"dists/$suite/$comp/binary-$ARCH/Packages"
    gzip -9nkf "dists/$suite/$comp/binary-$ARCH/Packages"
    apt-ftparchive \
      -o APT::FTPArchive::Release::Origin="$origin" \
      -o APT::FTPArchive::Release::Label="$label" \
      -o APT::FTPArchive::Release::Suite="$suite" \
      -o APT::FTPArchive::Release::Codename="$suite" \
      -o APT::FTPArchive::Release::Architectures="$ARCH" \
      -o APT::FTPArchive::Release::Components="$comp" \
      -o APT::FTPArchive::Release::Description="FAKE $label repository for microseg Molecule tests" \
      release "dists/$suite" >"$WORK/Release"
    mv "$WORK/Release" "dists/$suite/Release"
    gpg --batch --yes --local-user "$KEYNAME" --clearsign -o "dists/$suite/InRelease" "dists/$suite/Release"
    gpg --batch --yes --local-user "$KEYNAME" --armor --detach-sign -o "dists/$suite/Release.gpg" "dists/$suite/Release"
  )
}

prisma_debs=("$OUT"/packages/prisma-enforcer_*_all.deb)
csw_debs=("$OUT"/packages/tet-sensor_*_all.deb)
make_repo "$OUT/prisma/debian/$SUITE" aporeto main "microseg-test-prisma" "prisma-enforcer" "${prisma_debs[@]}"
make_repo "$OUT/secure-workload/debian" "$SUITE" main "microseg-test-secure-workload" "tet-sensor" "${csw_debs[@]}"
make_repo "$OUT/prisma-1.0.0/debian/$SUITE" aporeto main "microseg-test-prisma" "prisma-enforcer" "$OUT/packages/prisma-enforcer_1.0.0_all.deb"
make_repo "$OUT/secure-workload-1.0.0/debian" "$SUITE" main "microseg-test-secure-workload" "tet-sensor" "$OUT/packages/tet-sensor_1.0.0_all.deb"

# ------------------------------------------------------------------ ready-made sources
mkdir -p "$OUT/sources"
write_sources() {
  local file=$1 uri=$2 suite=$3
  cat >"$OUT/sources/$file.sources" <<EOF
Types: deb
URIs: $uri
Suites: $suite
Components: main
Signed-By: $MOUNT/keys/$KEYNAME.asc
EOF
  echo "deb [signed-by=$MOUNT/keys/$KEYNAME.gpg] $uri $suite main" >"$OUT/sources/$file.list"
}
write_sources prisma "file://$MOUNT/prisma/debian/$SUITE" aporeto
write_sources secure-workload "file://$MOUNT/secure-workload/debian" "$SUITE"
write_sources prisma-1.0.0 "file://$MOUNT/prisma-1.0.0/debian/$SUITE" aporeto
write_sources secure-workload-1.0.0 "file://$MOUNT/secure-workload-1.0.0/debian" "$SUITE"

# Check the signatures as apt will (gpgv against the exported public key only).
for rel in "$OUT"/*/debian/"$SUITE"/dists/aporeto/InRelease "$OUT"/*/debian/dists/"$SUITE"/InRelease; do
  gpgv --keyring "$OUT/keys/$KEYNAME.gpg" "$rel" 2>/dev/null || { echo "build_packages: bad signature on $rel" >&2; exit 1; }
done

find "$OUT" -path "$GNUPGHOME" -prune -o -exec chmod a+rX {} +
echo "$hash" >"$OUT/.build-hash"
echo "build_packages: $(find "$OUT/packages" -name "*.deb" | wc -l) packages, 4 repositories in $OUT in $(( $(date +%s) - start ))s"
