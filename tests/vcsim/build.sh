#!/usr/bin/env bash
# Build VMware's vCenter simulator (vcsim) from the Go module proxy into <repo>/.cache/bin/vcsim.
#
#   tests/vcsim/build.sh          builds once; a cached binary of the pinned version is kept
#
# v0.46.3 is the last govmomi release whose vcsim installs with a plain `go install`: from
# v0.47.0 on, vcsim is a sub-module with a `replace github.com/vmware/govmomi => ../`
# directive, which `go install pkg@version` refuses (see govmomi's CHANGELOG for v0.47.0).
# Cold build (empty Go module and build caches): 90 to 110 s on 2 cores; with warm Go caches
# about 5 s; with the binary of this version already in .cache/bin: nothing to do (10 ms).
set -euo pipefail

VCSIM_VERSION="v0.46.3"
VCSIM_MODULE="github.com/vmware/govmomi"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin_dir="$repo/.cache/bin"
bin="$bin_dir/vcsim"

if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: the Go toolchain (go, 1.22 or newer) is needed to build vcsim" >&2
    exit 1
fi

built_version() {
    # The module version that `go install` recorded in the binary ("mod <path> <version> <sum>").
    [ -x "$bin" ] || return 0
    go version -m "$bin" 2>/dev/null | awk -v m="$VCSIM_MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

mkdir -p "$bin_dir"
# One build at a time (parallel test runs share the cache).
exec 9>"$bin_dir/.vcsim-build.lock"
flock 9

if [ "$(built_version)" = "$VCSIM_VERSION" ]; then
    echo "vcsim $VCSIM_VERSION already built: $bin"
    exit 0
fi

echo "building vcsim $VCSIM_VERSION into $bin_dir (first build takes a minute or two)"
start=$(date +%s)
# GOTOOLCHAIN=local: build with the installed Go, never fetch another toolchain.
GOBIN="$bin_dir" GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    go install "$VCSIM_MODULE/vcsim@$VCSIM_VERSION"
version="$(built_version)"
if [ "$version" != "$VCSIM_VERSION" ]; then
    echo "build.sh: $bin reports version '${version:-none}', expected $VCSIM_VERSION" >&2
    exit 1
fi
echo "built vcsim $VCSIM_VERSION in $(( $(date +%s) - start ))s: $bin"
