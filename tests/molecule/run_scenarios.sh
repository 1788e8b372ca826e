#!/usr/bin/env bash
# Run every Molecule scenario (molecule/*/molecule.yml) with the lab they need, and write
# build/test-results/molecule.xml (one JUnit test case per scenario) for make test's summary.
#
#   tests/molecule/run_scenarios.sh [scenario ...]      default: all scenarios
#
# The lab (lab/labctl.py) runs on loopback in .lab-molecule/: the Prisma API whose /_meta/config
# names the fake repository (file:///srv/microseg-repo/prisma, signed with the test key), and the
# Secure Workload API for the agent config profile. The containers have no network; only the
# controller talks to the lab.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="$REPO/.venv/bin/python"
LAB_DIR="$REPO/.lab-molecule"
RESULTS="$REPO/build/test-results"
MOLECULE_REPO="${MICROSEG_MOLECULE_REPO:-$REPO/.cache/molecule-repo}"

if [ "$#" -gt 0 ]; then
  scenarios=("$@")
else
  mapfile -t scenarios < <(cd "$REPO/molecule" && for f in */molecule.yml; do dirname "$f"; done)
fi
[ "${#scenarios[@]}" -gt 0 ] || { echo "run_scenarios.sh: no scenario under molecule/" >&2; exit 1; }

mkdir -p "$LAB_DIR" "$RESULTS"
"$PY" - "$MOLECULE_REPO/keys/microseg-test-repo.asc" "$LAB_DIR/meta-config.json" <<'PYEOF'
import json, sys
key = open(sys.argv[1], encoding="utf-8").read()
json.dump({"repo": "file:///srv/microseg-repo/prisma", "repo-signing-key": key}, open(sys.argv[2], "w", encoding="utf-8"))
PYEOF

"$PY" "$REPO/lab/labctl.py" stop --dir "$LAB_DIR" >/dev/null 2>&1 || true
MICROSEG_LAB_PRISMA_META_CONFIG="$LAB_DIR/meta-config.json" "$PY" "$REPO/lab/labctl.py" start --dir "$LAB_DIR"
trap '"$PY" "$REPO/lab/labctl.py" stop --dir "$LAB_DIR" >/dev/null 2>&1 || true' EXIT
set -a; . "$LAB_DIR/lab.env"; set +a

cases=""
failures=0
for scenario in "${scenarios[@]}"; do
  echo "=============== molecule test -s $scenario"
  start=$(date +%s)
  log="$RESULTS/molecule-$scenario.log"
  if "$HERE/molecule.sh" test -s "$scenario" 2>&1 | tee "$log"; then
    status=ok
    body=""
  else
    status=FAILED
    failures=$((failures + 1))
    body="<failure message=\"molecule test -s $scenario failed; see $log\"/>"
  fi
  secs=$(( $(date +%s) - start ))
  echo "=============== molecule test -s $scenario: $status in ${secs}s"
  cases="$cases<testcase classname=\"molecule\" name=\"$scenario\" time=\"$secs\">$body</testcase>"
done
printf '<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="molecule" tests="%d" failures="%d">%s</testsuite>\n' \
  "${#scenarios[@]}" "$failures" "$cases" >"$RESULTS/molecule.xml"
[ "$failures" -eq 0 ]
