#!/usr/bin/env bash
# Stops what .ci/slurm-up.sh started: its cluster's jobs, then slurmd, slurmctld and munged, by the pids it
# recorded (and only where that pid still runs the daemon it names). Installed packages and slurm.conf stay.
set -euo pipefail
STATE=${DATADIET_SLURM_STATE:-/var/lib/datadiet-slurm}

running() {  # running NAME: the pid recorded for NAME, if that process is still NAME
  local pid
  pid=$(cat "$STATE/$1.pid" 2>/dev/null) || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$1" ]] && echo "$pid"
}

if running slurmctld >/dev/null; then  # our controller: every job on it is one the tests started
  scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
  for _ in $(seq 30); do [[ -z "$(squeue -h -o %i 2>/dev/null)" ]] && break; sleep 1; done
fi
for daemon in slurmd slurmctld munged; do
  if pid=$(running "$daemon"); then
    kill "$pid"
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    echo "slurm-down: stopped $daemon ($pid)"
  fi
  rm -f "$STATE/$daemon.pid"
done
