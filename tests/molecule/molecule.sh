#!/usr/bin/env bash
# Run Molecule for microseg.segmentation with the shared base config and the environment the
# scenarios expect. Arguments go to molecule, e.g.:
#   tests/molecule/molecule.sh test -s prisma_enforcer
#   tests/molecule/molecule.sh test --all
#   tests/molecule/molecule.sh converge -s secure_workload_agent
# Run from the repository root (the collection root, where molecule/<scenario>/ lives);
# MOLECULE_PROJECT_ROOT overrides the directory it changes to.
# Prerequisites (make molecule-setup): setup_podman.sh, build_image.sh, build_packages.sh, .venv.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

export PATH="$REPO/.venv/bin:$PATH"
export MICROSEG_MOLECULE_REPO="${MICROSEG_MOLECULE_REPO:-$REPO/.cache/molecule-repo}"
# the collection through build/ansible_collections (make collection-root); containers.podman,
# ansible.posix, community.general come from the `ansible` package in .venv (sys.path).
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$REPO/build}"
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-0}"
export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-1}"
export PY_COLORS="${PY_COLORS:-0}"
export NO_COLOR="${NO_COLOR:-1}"

[ -f "$MICROSEG_MOLECULE_REPO/keys/microseg-test-repo.asc" ] || {
  echo "molecule.sh: $MICROSEG_MOLECULE_REPO missing: run tests/molecule/build_packages.sh" >&2; exit 1; }
podman image exists localhost/microseg-debian:bookworm || {
  echo "molecule.sh: image localhost/microseg-debian:bookworm missing: run tests/molecule/build_image.sh" >&2; exit 1; }

cd "${MOLECULE_PROJECT_ROOT:-$REPO}"
exec molecule --base-config "$HERE/molecule-base.yml" "$@"
