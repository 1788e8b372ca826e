#!/usr/bin/env bash
# Build the Molecule platform image localhost/microseg-debian:bookworm without a registry:
# debootstrap (minbase) from the Debian mirror this machine's apt already uses, then
# `podman import`. The image boots systemd (CMD /lib/systemd/systemd) and has what the roles'
# scenarios need: python3 with python3-apt and python3-debian (ansible.builtin.apt,
# apt_repository, deb822_repository work offline), iptables (nft backend), iproute2, procps
# (sysctl) and gpg.
#
# Skipped when the image exists with the label microseg.build-hash equal to the hash of this
# script and the knobs below (FORCE=1 rebuilds). The downloaded .debs are kept in
# <repo>/.cache/debootstrap-debs so that a rebuild does not download them again.
#
# The image has no apt sources of its own (its containers have no network): a scenario adds the
# fake vendor repositories mounted at /srv/microseg-repo (see build_packages.sh).
#
# Needs root, podman and debootstrap (setup_podman.sh). Knobs (environment):
#   IMAGE            image name (default localhost/microseg-debian:bookworm)
#   SUITE            Debian suite (default bookworm)
#   DEBIAN_MIRROR    mirror URI (default: the first apt source of this machine serving SUITE,
#                    else http://deb.debian.org/debian)
#   EXTRA_PACKAGES   comma-separated packages added to --include (part of the hash)
#   IPTABLES_BACKEND nft (default) or legacy: update-alternatives in the image (part of the hash)
#   FORCE=1          rebuild even when the image is up to date
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="$REPO/.cache"

IMAGE="${IMAGE:-localhost/microseg-debian:bookworm}"
SUITE="${SUITE:-bookworm}"
EXTRA_PACKAGES="${EXTRA_PACKAGES:-}"
IPTABLES_BACKEND="${IPTABLES_BACKEND:-nft}"
LABEL=microseg.build-hash

PACKAGES=(
  python3 python3-apt python3-debian   # Ansible and its apt modules, offline
  systemd systemd-sysv dbus            # PID 1 in the container, systemctl, hostnamectl
  iptables iproute2 procps kmod        # iptables/ip6tables, ip, sysctl
  gpg gpgv ca-certificates             # signed-by keys (.asc/.gpg) and apt's verification
)
include="$(IFS=,; echo "${PACKAGES[*]}")${EXTRA_PACKAGES:+,$EXTRA_PACKAGES}"

case "$IPTABLES_BACKEND" in nft|legacy) ;; *) echo "IPTABLES_BACKEND must be nft or legacy" >&2; exit 2 ;; esac

hash="$( { sha256sum <"${BASH_SOURCE[0]}"; echo "$SUITE|$include|$IPTABLES_BACKEND"; } | sha256sum | cut -c1-16)"

if [ "${FORCE:-0}" != 1 ] && podman image exists "$IMAGE"; then
  have="$(podman image inspect --format "{{index .Labels \"$LABEL\"}}" "$IMAGE" 2>/dev/null || true)"
  if [ "$have" = "$hash" ]; then
    echo "build_image: $IMAGE is up to date ($LABEL=$hash)"
    exit 0
  fi
  echo "build_image: $IMAGE has $LABEL=${have:-none}, want $hash: rebuilding"
fi

# The mirror this machine's apt uses for SUITE (deb822 .sources first, then one-line lists).
find_mirror() {
  python3 - "$SUITE" <<'PY'
import glob
import re
import sys

suite = sys.argv[1]
files = sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
for path in files:
    with open(path, encoding="utf-8", errors="replace") as fh:
        stanzas = re.split(r"\n\s*\n", fh.read())
    for stanza in stanzas:
        fields = {}
        for line in stanza.splitlines():
            m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
            if m:
                fields[m.group(1).lower()] = m.group(2).split()
        if fields.get("enabled", ["yes"])[0] == "no" or "deb" not in fields.get("types", []):
            continue
        if suite in fields.get("suites", []) and "main" in fields.get("components", []):
            print(fields["uris"][0])
            sys.exit(0)
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError:
        continue
    for line in lines:
        line = re.sub(r"\[[^\]]*\]", "", line.split("#", 1)[0]).split()
        if len(line) >= 4 and line[0] == "deb" and line[2] == suite and "main" in line[3:]:
            print(line[1])
            sys.exit(0)
print("http://deb.debian.org/debian")
PY
}
MIRROR="${DEBIAN_MIRROR:-$(find_mirror)}"

mkdir -p "$CACHE/debootstrap-debs"
ROOTFS="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
cleanup() { rm -rf --one-file-system "$ROOTFS"; }
trap cleanup EXIT

start=$(date +%s)
echo "build_image: debootstrap $SUITE from $MIRROR into $ROOTFS"
echo "build_image: --include=$include"
if ! debootstrap --variant=minbase --include="$include" --cache-dir="$CACHE/debootstrap-debs" \
      "$SUITE" "$ROOTFS" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
  tail -n 30 "$CACHE/debootstrap.log" >&2
  [ -f "$ROOTFS/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
  echo "build_image: debootstrap failed (full log: $CACHE/debootstrap.log)" >&2
  exit 1
fi
boot=$(date +%s)

# Inside the rootfs: no apt sources (no network in the containers), small dpkg footprint for
# later installs, units that make no sense in a container masked, iptables backend chosen.
chroot "$ROOTFS" /bin/sh -eu -c "
  : > /etc/apt/sources.list
  rm -f /etc/apt/sources.list.d/*
  cat > /etc/dpkg/dpkg.cfg.d/01-microseg-nodoc <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
  cat > /etc/apt/apt.conf.d/01-microseg <<'CFG'
APT::Install-Recommends \"false\";
APT::Install-Suggests \"false\";
Acquire::Languages \"none\";
CFG
  for unit in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
              getty.target console-getty.service systemd-logind.service \
              systemd-networkd-wait-online.service systemd-timesyncd.service \
              apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
              e2scrub_all.timer fstrim.timer; do
    ln -sf /dev/null /etc/systemd/system/\$unit
  done
  update-alternatives --set iptables /usr/sbin/iptables-$IPTABLES_BACKEND >/dev/null
  update-alternatives --set ip6tables /usr/sbin/ip6tables-$IPTABLES_BACKEND >/dev/null
  : > /etc/machine-id
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log /var/log/apt/* \
         /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/* /tmp/* \
         /var/cache/debconf/*-old /var/lib/dpkg/*-old
"
echo 'microseg-molecule' > "$ROOTFS/etc/hostname"

podman image exists "$IMAGE" && podman rmi -f "$IMAGE" >/dev/null
tar --numeric-owner --xattrs -C "$ROOTFS" -c . |
  podman import --quiet \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change 'STOPSIGNAL SIGRTMIN+3' \
    --change 'ENV container=podman' \
    --change "LABEL $LABEL=$hash" \
    --change "LABEL microseg.suite=$SUITE" \
    --change "LABEL microseg.iptables-backend=$IPTABLES_BACKEND" \
    --message "debootstrap --variant=minbase $SUITE" \
    - "$IMAGE" >/dev/null
end=$(date +%s)
size="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
echo "build_image: $IMAGE built in $((end - start))s (debootstrap $((boot - start))s), $((size / 1024 / 1024)) MiB, $LABEL=$hash"
