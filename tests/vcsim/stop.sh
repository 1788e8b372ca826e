#!/usr/bin/env bash
# Stop the vcsim that tests/vcsim/start.sh DIR started (by its pid in DIR/vcsim.pid).
#
#   tests/vcsim/stop.sh DIR
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir="$1"
pid_file="$dir/vcsim.pid"
if [ ! -f "$pid_file" ]; then
    echo "no vcsim started from $dir"
    exit 0
fi
pid="$(cat "$pid_file")"
# Only signal the process if it still is our vcsim (the pid may have been reused).
if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "vcsim"; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "vcsim (pid $pid) ignored SIGTERM; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "vcsim (pid $pid) stopped"
else
    echo "vcsim (pid $pid) was not running"
fi
rm -f "$pid_file" "$dir/vcsim.env"
