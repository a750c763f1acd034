#!/usr/bin/env bash
# A sweep through a real Slurm cluster: a single-host Slurm (Debian's slurmctld, slurmd and munge,
# configured here in a temporary folder, on ports of its own) takes `geopbft sweep --slurm`; its
# results.csv must equal a local sweep's (wall-clock columns aside); a resumed sweep submits only
# the missing runs, in several runs per array task; a run that fails inside a task is reported by
# the task and by --collect, not silently lost. Everything started here is stopped on exit.
# Needs root (the daemons run as root) and the packages ./geopbft test installs.
set -u
bin=$1; root=$2; work=$3
fail() { echo "FAIL: $*"; [[ -f $work/slurmctld.log ]] && tail -n 5 "$work/slurmctld.log" "$work/slurmd.log"; exit 1; }
[[ $(id -u) == 0 ]] || fail "run as root: the test starts slurmctld, slurmd and munged"
for p in slurmctld slurmd munged mungekey sbatch; do
  command -v $p >/dev/null || [[ -x /usr/sbin/$p ]] || fail "$p missing (./geopbft test installs slurmctld slurmd slurm-client munge)"
done
export PATH=$PATH:/usr/sbin
rm -rf "$work"; mkdir -p "$work"
# The daemons' own files live under a short path: Unix socket paths are limited to 108 bytes, and
# slurmd's step sockets (spool/<node>_<job>.<step>) under a deep build tree exceed it.
daemons=$(mktemp -d /tmp/geopbft-slurm.XXXXXX) || fail "mktemp failed"
mkdir -p "$daemons/state" "$daemons/spool" "$daemons/munge"; chmod 700 "$daemons/munge"
export SLURM_CONF=$daemons/slurm.conf

pids=()
cleanup() {  # stop what we started, and wait until it is gone (its ports and files are ours)
  scontrol shutdown >/dev/null 2>&1
  local p i
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for i in $(seq 50); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$daemons"
  return 0
}
started() { [[ -s $1 ]] && pids+=("$(cat "$1")"); }
trap cleanup EXIT

# Munge, with a key and a socket of its own (the system's munged, if any, is left alone).
mungekey --create --keyfile="$daemons/munge/munge.key" >/dev/null 2>&1 || fail "mungekey failed"
munged --force --socket="$daemons/munge/socket" --key-file="$daemons/munge/munge.key" --pid-file="$daemons/munge/munged.pid" \
  --log-file="$daemons/munge/munged.log" --seed-file="$daemons/munge/seed" >/dev/null 2>&1 || fail "munged did not start"
started "$daemons/munge/munged.pid"

# Ports of our own: a free pair above 20000 (two runs of the suite never share them).
port=$(python3 -c "
import socket
for p in range(26817, 27817, 2):
    ok = True
    for q in (p, p + 1):
        s = socket.socket()
        try: s.bind(('127.0.0.1', q))
        except OSError: ok = False
        finally: s.close()
    if ok: print(p); break")
host=$(hostname -s)
cat >"$SLURM_CONF" <<C
ClusterName=geopbft-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$daemons/munge/socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$daemons/state
SlurmdSpoolDir=$daemons/spool
SlurmctldPidFile=$daemons/slurmctld.pid
SlurmdPidFile=$daemons/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=geopbft Nodes=$host Default=YES MaxTime=INFINITE State=UP
C
# Slurm 22.05's slurmd loads a cgroup plugin even when no configured plugin uses cgroups; its
# autodetection fails where /sys/fs/cgroup is not mounted (a chroot, some containers). The v1
# plugin loads without touching the hierarchy, and nothing here asks it for a controller.
echo "CgroupPlugin=cgroup/v1" >"$daemons/cgroup.conf"
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for i in $(seq 20); do [[ -s $daemons/slurmctld.pid && -s $daemons/slurmd.pid ]] && break; sleep 0.1; done
started "$daemons/slurmctld.pid"; started "$daemons/slurmd.pid"
for i in $(seq 60); do sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)' && break; sleep 0.5; done
sinfo -h -o %t | grep -qE '^(idle|mix|alloc)' || fail "the node did not come up: $(sinfo 2>&1)"

cat >"$work/base.textproto" <<'S'
name: "tiny"
duration_s: 1
topology { clusters: 2 replicas_per_cluster: 4 }
protocol { kind: GEOBFT batch_size: 10 }
workload { outstanding: 20 }
S
cat >"$work/tiny.sweep.textproto" <<'S'
base: "base.textproto"
axes { path: "protocol.kind" values: ["GEOBFT", "GEOBFT_REPUTATION"] column: "protocol" }
axes { path: "fault_ratio" values: ["0", "0.25"] behaviour: SILENT }
seeds: 2
S
sweep=$work/tiny.sweep.textproto

# Through Slurm: 8 runs in 3 array tasks (3 + 3 + 2 runs), waited for, then collected.
cd "$work"
timeout 300 "$bin" sweep "$sweep" --slurm="--wait --no-requeue" --slurm-tasks=3 --out="$work/s" >"$work/s.log" 2>&1 || fail "Slurm sweep failed: $(cat "$work/s.log")"
grep -q '8 runs in 3 Slurm array task(s) of up to 3' "$work/s.log" || fail "not one array of 3 tasks: $(cat "$work/s.log")"
grep -q 'submitted Slurm job [0-9]' "$work/s.log" || fail "no job id reported: $(cat "$work/s.log")"
[[ $(ls "$work"/s/slurm/task-*.log | wc -l) == 3 ]] || fail "expected 3 task logs: $(ls "$work/s/slurm")"
[[ $(cat "$work"/s/slurm/task-*.log | grep -c '^run .* done$') == 8 ]] || fail "task logs: $(cat "$work"/s/slurm/task-*.log)"
[[ $(wc -l <"$work/s/results.csv") == 9 ]] || fail "results.csv: $(cat "$work/s/results.csv")"

# The same sweep, locally: identical apart from wall-clock fields.
"$bin" sweep "$sweep" --jobs=2 --out="$work/l" >/dev/null 2>&1 || fail "local sweep failed"
strip() { python3 -c "
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(','.join(v for k, v in r.items() if not k.startswith('wall_')))" "$1"; }
cmp -s <(strip "$work/s/results.csv") <(strip "$work/l/results.csv") || fail "Slurm and local results differ"

# Resume: two runs lost; only they are submitted, and the table comes back whole.
rm -rf "$work/s/p000-s2" "$work/s/p003-s1"
timeout 300 "$bin" sweep "$sweep" --slurm="--wait --no-requeue" --out="$work/s" >"$work/r.log" 2>&1 || fail "resumed Slurm sweep failed: $(cat "$work/r.log")"
grep -q '2 runs in 2 Slurm array task(s) of up to 1' "$work/r.log" || fail "resume submitted more than the missing runs: $(cat "$work/r.log")"
cmp -s <(strip "$work/s/results.csv") <(strip "$work/l/results.csv") || fail "resumed results differ"

# A run that cannot write its output fails inside its task: the task fails, sbatch --wait and the
# sweep exit non-zero, and the sweep names the run.
rm -rf "$work/s/p001-s1"; echo "in the way" >"$work/s/p001-s1"
timeout 300 "$bin" sweep "$sweep" --slurm="--wait --no-requeue" --out="$work/s" >"$work/f.log" 2>&1; code=$?
[[ $code == 1 ]] || fail "a failed Slurm task gave exit $code: $(cat "$work/f.log")"
grep -q 'run p001-s1 exit 2 in a Slurm task' "$work/f.log" || fail "the failed run is not reported: $(cat "$work/f.log")"
grep -q 'results.csv: 7 of 8 runs' "$work/f.log" || fail "collect after the failure: $(cat "$work/f.log")"
"$bin" sweep "$sweep" --collect --out="$work/s" >"$work/c.log" 2>&1; code=$?
[[ $code == 1 ]] && grep -q 'run p001-s1 exit 2 in a Slurm task' "$work/c.log" || fail "--collect forgot the failure ($code): $(cat "$work/c.log")"

# Without --wait, the sweep returns at once and says how to collect.
rm -rf "$work/s/p001-s1"
timeout 300 "$bin" sweep "$sweep" --slurm=--no-requeue --out="$work/s" >"$work/n.log" 2>&1 || fail "submission without --wait failed"
grep -q -- '--collect' "$work/n.log" || fail "no collect instruction: $(cat "$work/n.log")"
for i in $(seq 120); do [[ -z $(squeue -h 2>/dev/null) ]] && break; sleep 0.5; done
"$bin" sweep "$sweep" --collect --out="$work/s" >/dev/null 2>&1 || fail "collect after the job failed"
cmp -s <(strip "$work/s/results.csv") <(strip "$work/l/results.csv") || fail "collected results differ"
echo "ok: Slurm sweep = local sweep, resume submits only the missing runs, a failed run is reported"
