#!/usr/bin/env bash
# A one-node Slurm on this machine, for the tests: installs Debian's slurm-wlm and munge where absent, writes a
# slurm.conf sized to the machine, starts munged, slurmctld and slurmd, and waits until `sinfo` shows the node idle.
# Idempotent: where Slurm already answers it returns at once. `.ci/slurm-down.sh` stops what this started.
set -euo pipefail
STATE=${DATADIET_SLURM_STATE:-/var/lib/datadiet-slurm}  # spool, logs and the pids of what this script started
CONF=/etc/slurm/slurm.conf
MARK="# written by datadiet-repro .ci/slurm-up.sh"

node_state() { sinfo -h -o %T 2>/dev/null | head -1; }
up() { [[ "$(node_state)" =~ ^(idle|mixed|allocated) ]]; }
listening() { (exec 3<>/dev/tcp/127.0.0.1/6817) 2>/dev/null; }  # our slurmctld (sinfo waits 10 s for a silent one)
running() { local pid; pid=$(cat "$STATE/$1.pid" 2>/dev/null) && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$1" ]]; }

if [[ -e "$CONF" ]] && ! grep -qF "$MARK" "$CONF"; then
  up && { echo "slurm-up: Slurm already up ($(node_state))"; exit 0; }
  echo "slurm-up: $CONF was not written by this script and its cluster is not up; start it yourself" >&2; exit 1
fi
if listening && up; then
  echo "slurm-up: Slurm already up ($(node_state))"; exit 0
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || { echo "slurm-up: no apt-get; install slurm-wlm and munge yourself" >&2; exit 1; }
  apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; }
  apt_install 2>/dev/null || { apt-get update -qq && apt_install; }  # package lists missing or stale: refresh them once
fi

mkdir -p "$STATE"/{ctld,d,log}
host=$(hostname -s)
resources=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')  # CPUs, sockets, cores, threads, RealMemory
cpus=$(sed -E 's/.*CPUs=([0-9]+).*/\1/' <<<"$resources")
memory=$(sed -E 's/.*RealMemory=([0-9]+).*/\1/' <<<"$resources")
cat >"$CONF" <<EOF
$MARK
ClusterName=datadiet
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# no cgroups: containers rarely allow them
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# jobs that ask for no memory share the node rather than take all of it
DefMemPerCPU=$((memory / cpus))
ReturnToService=2
# a cancelled job is killed 2 s after its SIGTERM (which submitit's jobs ignore)
KillWait=2
NodeName=$host NodeAddr=127.0.0.1 $resources State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 /run/munge
  [[ -s /etc/munge/munge.key ]] || runuser -u munge -- mungekey --create
  runuser -u munge -- munged
  cp /run/munge/munged.pid "$STATE/munged.pid"
fi
running slurmctld || slurmctld
running slurmd || slurmd

for _ in $(seq 50); do listening && break; sleep 0.2; done
for _ in $(seq 60); do
  [[ "$(node_state)" == idle ]] && { echo "slurm-up: node $host idle (${cpus} CPUs, ${memory} MB)"; exit 0; }
  sleep 1
done
echo "slurm-up: node not idle after 60 s (state: $(node_state)); logs:" >&2
tail -n 20 "$STATE"/log/slurm*.log >&2
exit 1
