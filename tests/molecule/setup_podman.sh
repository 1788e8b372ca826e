#!/usr/bin/env bash
# Prepare this machine for the Molecule scenarios (podman driver): Debian's podman, runc,
# debootstrap and the tools that build the fake vendor packages and their apt repositories,
# and /etc/containers/containers.conf settings that the sandbox needs.
#
# Idempotent: packages are installed only when missing, and containers.conf is rewritten only
# when one of the two settings below is missing or different (other settings are kept).
#
#   [containers] default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
#       the sandbox lacks CAP_SYS_RESOURCE, so podman cannot raise the ulimits it would copy
#       from the host for each container
#   [engine] runtime = "runc"
#       crun fails on this machine's hybrid cgroups; runc works
#
# Needs root (apt-get, /etc/containers). Environment:
#   MICROSEG_CONTAINERS_CONF   file to edit (default /etc/containers/containers.conf)
set -euo pipefail

CONF="${MICROSEG_CONTAINERS_CONF:-/etc/containers/containers.conf}"

# command -> Debian package that provides it
declare -A NEEDED=(
  [podman]=podman
  [runc]=runc
  [debootstrap]=debootstrap
  [dpkg-deb]=dpkg
  [dpkg-scanpackages]=dpkg-dev
  [apt-ftparchive]=apt-utils
  [gpg]=gnupg
  [gpgv]=gpgv
)

missing=()
for cmd in "${!NEEDED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEEDED[$cmd]}")
done
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "setup_podman: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # podman's recommended helpers that it needs for rootful containers without a registry
  # (conmon, netavark/aardvark or cni plugins) are dependencies, not recommends, on bookworm.
else
  echo "setup_podman: podman, runc, debootstrap, dpkg-dev, apt-utils, gnupg already installed"
fi

# Merge the two settings into containers.conf with Python's tomllib-free line editing: the file
# is TOML, but keeping comments and unknown keys matters more than a full TOML round trip.
mkdir -p "$(dirname "$CONF")"
touch "$CONF"
python3 - "$CONF" <<'PY'
import re
import sys

path = sys.argv[1]
want = {
    "containers": {"default_ulimits": '["nofile=4096:4096", "nproc=4096:4096"]'},
    "engine": {"runtime": '"runc"'},
}
with open(path, encoding="utf-8") as fh:
    lines = fh.read().splitlines()

section_re = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
out, section, done = [], None, {s: set() for s in want}


def flush_missing(sec):
    """Append the wanted keys of SEC that were not seen in its body."""
    for key, value in want.get(sec, {}).items():
        if key not in done[sec]:
            out.append(f"{key} = {value}")
            done[sec].add(key)


for line in lines:
    m = section_re.match(line)
    if m:
        if section in want:
            flush_missing(section)
        section = m.group(1).strip()
        out.append(line)
        continue
    if section in want:
        km = re.match(r"^\s*([A-Za-z0-9_]+)\s*=", line)
        if km and km.group(1) in want[section]:
            key = km.group(1)
            if key in done[section]:
                continue  # drop a duplicate of a key we already set
            out.append(f"{key} = {want[section][key]}")
            done[section].add(key)
            continue
    out.append(line)
if section in want:
    flush_missing(section)
for sec in want:
    if len(done[sec]) < len(want[sec]):
        if out and out[-1].strip():
            out.append("")
        out.append(f"[{sec}]")
        flush_missing(sec)

new = "\n".join(out) + "\n"
old = "\n".join(lines) + "\n" if lines else ""
if new != old:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(new)
    print(f"setup_podman: updated {path}")
else:
    print(f"setup_podman: {path} already has the settings")
PY

if ! out=$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Version.Version}} cgroups={{.Host.CgroupsVersion}}' 2>&1); then
  echo "setup_podman: podman info failed:" >&2
  echo "$out" >&2
  exit 1
fi
echo "setup_podman: podman info ok (runtime, version: $out)"
