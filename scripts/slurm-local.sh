#!/bin/bash
# A one-node Slurm cluster on this machine, for `npm run test:slurm`:
#   scripts/slurm-local.sh start DIR   # config, state and logs in DIR; prints `export SLURM_CONF=...`
#   scripts/slurm-local.sh stop DIR    # stops the daemons this script started (their pid files in DIR)
# Needs Debian's slurm-wlm and munge (apt-get install slurm-wlm munge) and
# root: slurmd runs jobs as their user, and munged reads /etc/munge/munge.key.
set -euo pipefail
cmd=${1:?start or stop}
dir=$(mkdir -p "${2:?a folder for config, state and logs}" && cd "$2" && pwd)
conf=$dir/slurm.conf

stop_pidfile() {
  local f=$1
  if [ -s "$f" ]; then
    local pid
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    # Wait for it to exit, so that a cluster started next finds the ports free.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    rm -f "$f"
  fi
}

if [ "$cmd" = stop ]; then
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munged.pid"
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

for bin in slurmctld slurmd sbatch munged; do
  command -v "$bin" >/dev/null || { echo "slurm-local: $bin not found; apt-get install slurm-wlm munge" >&2; exit 3; }
done
[ "$(id -u)" = 0 ] || { echo "slurm-local: needs root (slurmd and munged)" >&2; exit 3; }

host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
cat > "$conf" <<CONF
ClusterName=advkit
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=3600
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$conf

# munged: reuse a running one (it serves the whole machine), else start ours.
if ! munge -n >/dev/null 2>&1; then
  mkdir -p /run/munge
  chown munge:munge /run/munge 2>/dev/null || true
  munged --force --pid-file="$dir/munged.pid" 2>>"$dir/log/munged.err" \
    || munged --force 2>>"$dir/log/munged.err"
fi
slurmctld
slurmd
# Up when the node is idle (seconds on an idle machine).
for _ in $(seq 60); do
  if sinfo -h -o %t 2>/dev/null | grep -qx idle; then
    echo "export SLURM_CONF=$conf"
    exit 0
  fi
  sleep 1
done
echo "slurm-local: the node did not come up; see $dir/log" >&2
exit 1
