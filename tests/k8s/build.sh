#!/usr/bin/env bash
# Build the Kubernetes test control plane from the Go module proxy into <repo>/.cache/bin:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl   (tests/k8s/wrapper)
#   kwok                                                                    (go install, its own module)
#
#   tests/k8s/build.sh          builds once; binaries of the pinned versions are kept
#
# `go install k8s.io/kubernetes/cmd/kube-apiserver@vX` is refused: k8s.io/kubernetes replaces its
# k8s.io/* staging modules with ./staging/... directories. tests/k8s/wrapper/go.mod requires
# k8s.io/kubernetes, replaces every staging module with its published v0.X.Y and lists the commands
# as `tool` directives, so `go build tool` builds them all in one go (shared packages compile once).
# etcd (go.etcd.io/etcd/server/v3) has relative replace directives too, so it is built from the same
# wrapper, at the version k8s.io/kubernetes itself pins. kwok has no replace directives.
# To move to another release: change K8S_VERSION/STAGING_VERSION here and in wrapper/go.mod, then
# `cd tests/k8s/wrapper && GOTOOLCHAIN=local go mod tidy`, and commit go.mod and go.sum.
#
# Timings on 2 cores (Go 1.26.8), measured: cold, with empty Go module and build caches, 598 s
# (about 8 minutes for the wrapper, 2 for kwok; 134 MB of module zips downloaded, 850 MB once
# extracted, 3.6 GB of Go build cache); with warm Go caches and the binaries deleted 28 s (linking);
# with the binaries of these versions already in .cache/bin: nothing to do (30 ms).
set -euo pipefail

K8S_VERSION="v1.36.3"       # k8s.io/kubernetes, in wrapper/go.mod
STAGING_VERSION="v0.36.3"   # the k8s.io/<staging> modules, replaced in wrapper/go.mod
KWOK_VERSION="v0.8.0"       # sigs.k8s.io/kwok (its go.mod requires k8s.io/* v0.36)
KWOK_MODULE="sigs.k8s.io/kwok"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin_dir="$repo/.cache/bin"
wrapper="$here/wrapper"
tools=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: the Go toolchain (go 1.26 or newer) is needed to build the Kubernetes binaries" >&2
    exit 1
fi
# GOTOOLCHAIN=local: build with the installed Go, never fetch another toolchain.
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -buildvcs=false"

# Everything that decides what gets built; a change of any of it means a rebuild.
wanted_stamp() {
    {
        echo "k8s $K8S_VERSION staging $STAGING_VERSION kwok $KWOK_VERSION"
        go env GOVERSION
        sha256sum "$wrapper/go.mod" "$wrapper/go.sum" | awk '{ print $1 }'
    } | sha256sum | awk '{ print $1 }'
}

mkdir -p "$bin_dir"
# One build at a time (parallel test runs share the cache).
exec 9>"$bin_dir/.k8s-build.lock"
flock 9

stamp_file="$bin_dir/.k8s-build.stamp"
stamp="$(wanted_stamp)"
all_there=yes
for t in "${tools[@]}"; do
    [ -x "$bin_dir/$t" ] || all_there=no
done
if [ "$all_there" = yes ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
    echo "kubernetes $K8S_VERSION test binaries already built in $bin_dir"
    exit 0
fi

grep -Eq "^(require)?[[:space:]]*k8s.io/kubernetes $K8S_VERSION( |$)" "$wrapper/go.mod" || {
    echo "build.sh: $wrapper/go.mod does not require k8s.io/kubernetes $K8S_VERSION" >&2
    exit 1
}

echo "building kubernetes $K8S_VERSION (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl) and kwok $KWOK_VERSION into $bin_dir"
echo "(a first build, with empty Go caches, takes about 10 minutes on 2 cores)"
start=$(date +%s)
rm -f "$stamp_file"
tmp="$(mktemp -d "$bin_dir/.k8s-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# The version the binaries report (/version, --version), set the way Kubernetes' own build does;
# without it they would call themselves v0.0.0-master.
minor="${K8S_VERSION#v1.}"
minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
# -mod=readonly: the committed go.mod/go.sum are used as they are.
(cd "$wrapper" && go build -mod=readonly -trimpath -ldflags="$ldflags" -o "$tmp/" tool)
# A main package at a module root with a /vN suffix is named after the path element before it.
mv "$tmp/server" "$tmp/etcd"
GOBIN="$tmp" go install -trimpath -ldflags="-s -w" "$KWOK_MODULE/cmd/kwok@$KWOK_VERSION"

# The versions the binaries carry (go version -m), for cluster.json and the README.
dep_version() { go version -m "$tmp/$1" | awk -v m="$2" '($1 == "dep" || $1 == "mod") && $2 == m { print $3; exit }'; }
k8s_built="$(dep_version kube-apiserver k8s.io/kubernetes)"
etcd_built="$(dep_version etcd go.etcd.io/etcd/server/v3)"
kwok_built="$(dep_version kwok "$KWOK_MODULE")"
if [ "$k8s_built" != "$K8S_VERSION" ] || [ "$kwok_built" != "$KWOK_VERSION" ] || [ -z "$etcd_built" ]; then
    echo "build.sh: built versions k8s='$k8s_built' kwok='$kwok_built' etcd='$etcd_built' do not match the pins" >&2
    exit 1
fi
printf '{"kubernetes": "%s", "etcd": "%s", "kwok": "%s", "go": "%s"}\n' \
    "$k8s_built" "$etcd_built" "$kwok_built" "$(go env GOVERSION)" > "$tmp/versions.json"

for t in "${tools[@]}" versions.json; do
    mv -f "$tmp/$t" "$bin_dir/$t"
done
echo "$stamp" > "$stamp_file"
echo "built kubernetes $K8S_VERSION, etcd $etcd_built and kwok $KWOK_VERSION in $(( $(date +%s) - start ))s: $bin_dir"
