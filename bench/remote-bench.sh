#!/usr/bin/env bash
# remote-bench.sh - jdmcache in front of a slow remote NBD origin vs the bare remote and vs nbdkit's cache
# filter in front of the same remote, in one run (issue 17, item 6).
#
# The remote: `nbdkit memory` (ORIGIN_MIB, default 1024) behind the delay filter, 2 ms for every read and write
# (DELAY), on a Unix socket, with nbdkit's default 16 threads: a WAN or cloud disk. The first HOT_MIB (default
# 256) are filled with random data (so the remote holds data, not holes) and are the hot set; both caches are
# CACHE_MIB (default 512) so the hot set fits:
#   filter:   nbdkit --filter=cache nbd socket=REMOTE cache=writeback cache-on-read=true cache-max-size=CACHE_MIB
#             (the cache in a temporary file, lost at a restart)
#   jdmcache: jdmcache serve --origin nbd+unix:///?socket=REMOTE, writeback, smq, 64 KiB blocks, cache and
#             metadata on sparse files in the work directory (page cache not dropped: the same holds for the
#             filter's temporary file)
# Workloads (fio's nbd ioengine, one job, RUNTIME seconds each, default 10, after a 1 s ramp, over the hot set):
# 4K random read QD32, 1 MiB sequential read QD8, 4K random write QD32 with a flush every 64 writes
# (--fsync=64). Each of those runs ROUNDS times (default 3) on the bare remote, the filter and jdmcache, taking
# turns in an order that rotates each round (the shared machine's load drifts), and the table has the medians.
# Both caches are warmed first by the same 4K random reads of the hot set, in WARM-second passes (default
# 10) until jdmcache's status shows 95% of the hot set's blocks cached (smq promotes lazily; the time taken is
# printed). Then both caches are stopped and started again (jdmcache: SIGTERM, the same cache and metadata, the
# dirty blocks the write row left kept dirty; the filter: a new process) and the reads are measured again at
# once, one run each (the filter's cache warms as it runs). With Ceph's packages installed (CEPH=0 to skip), the same three workloads
# run over a single-node Ceph RBD image (bench/ceph-cluster.sh, exported by `qemu-nbd -f raw rbd:...`): bare and
# jdmcache (warmed the same way). Work files go to $BENCH_DIR (default: a temp dir, removed at the end).
# Servers are stopped by PID. JAVA_OPTS (default -Xmx1g) goes to the Java server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
origin_mib=${ORIGIN_MIB:-1024}
hot_mib=${HOT_MIB:-256}
cache_mib=${CACHE_MIB:-512}
runtime=${RUNTIME:-10}
rounds=${ROUNDS:-3}
warm=${WARM:-10}
delay=${DELAY:-2ms}
java_opts=${JAVA_OPTS:--Xmx1g}
for t in fio nbdkit nbdcopy java python3; do
  command -v $t >/dev/null || { echo "remote-bench: $t is missing (apt-get install fio nbdkit libnbd-bin)" >&2; exit 2; }
done
fio --enghelp=nbd >/dev/null 2>&1 || { echo "remote-bench: this fio has no nbd ioengine" >&2; exit 2; }
ceph=${CEPH:-auto}
if [ "$ceph" = auto ]; then
  ceph=0
  command -v ceph-osd >/dev/null && command -v qemu-nbd >/dev/null &&
    [ -e /usr/lib/x86_64-linux-gnu/qemu/block-rbd.so ] && ceph=1
fi
jar=$root/jdmcache-cli/target/jdmcache.jar
[ -f "$jar" ] || (cd "$root" && ./mvnw -B -q package -DskipTests)

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ "$ceph" = 1 ] && [ -d "$work/ceph" ] && bash "$here/ceph-cluster.sh" stop "$work/ceph" || true
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
log() { echo "remote-bench: $*" >&2; }
wait_sock() { for _ in $(seq 300); do [ -S "$1" ] && return 0; sleep 0.1; done; log "no socket $1"; exit 1; }
uri_of() { echo "nbd+unix:///?socket=$1"; }

start_remote() {
  nbdkit -f -U "$work/remote.sock" --filter=delay memory size="${origin_mib}M" rdelay="$delay" wdelay="$delay" \
    > "$work/remote.out" 2>&1 &
  pids+=($!)
  wait_sock "$work/remote.sock"
}
start_filter() { # $1 = socket of the remote
  rm -f "$work/filter.sock"
  nbdkit -f -U "$work/filter.sock" --filter=cache nbd socket="$1" cache=writeback cache-on-read=true \
    cache-max-size="${cache_mib}M" > "$work/filter.out" 2>&1 &
  filter_pid=$!
  pids+=($filter_pid)
  wait_sock "$work/filter.sock"
}
start_jdmcache() { # $1 = origin URI, $2 = name of its files; fresh cache unless they exist
  local n=$2
  [ -f "$work/$n.cache" ] || { truncate -s "${cache_mib}M" "$work/$n.cache"; truncate -s 64M "$work/$n.meta"; }
  rm -f "$work/$n.sock" "$work/$n.ctl"
  (cd "$work" && exec java $java_opts -jar "$jar" serve --origin "$1" --cache "$work/$n.cache" \
    --metadata "$work/$n.meta" --control "$work/$n.ctl" --listen "unix:$work/$n.sock") > "$work/$n.out" 2>&1 &
  jd_pid=$!
  pids+=($jd_pid)
  for _ in $(seq 300); do grep -q 'serving nbd' "$work/$n.out" 2>/dev/null && return 0; sleep 0.1; done
  log "jdmcache did not start: $(cat "$work/$n.out")"; exit 1
}
stop_pid() { kill "$1"; wait "$1" 2>/dev/null || true; }
cached_blocks() { java -jar "$jar" status --control "$1" | awk '{split($7,a,"/"); print a[1]}'; }

run_fio() { # uri rw bs qd seconds out.json [extra fio options]
  local u=$1 rw=$2 bs=$3 qd=$4 secs=$5 out=$6
  shift 6
  fio --name=b --ioengine=nbd --uri="$u" --rw="$rw" --bs="$bs" --iodepth="$qd" --numjobs=1 \
    --offset=0 --size="${hot_mib}M" --time_based --runtime="$secs" --ramp_time=1 --randrepeat=0 \
    --norandommap --output-format=json --output="$out" "$@" >/dev/null
}

# warm up: 4K random reads of the hot set through both caches, WARM s at a time, until jdmcache has 95% of it
warm_up() { # jdmcache URI, control socket, [filter URI]; prints seconds of warm-up
  local want=$((hot_mib * 16 * 95 / 100)) used=0 i
  for i in $(seq 30); do
    run_fio "$1" randread 4k 32 "$warm" "$work/warm.json"
    [ -n "${3:-}" ] && run_fio "$3" randread 4k 32 "$warm" "$work/warm.json"
    used=$(cached_blocks "$2")
    log "warm-up pass $i: jdmcache has $used of $((hot_mib * 16)) hot blocks cached"
    [ "$used" -ge "$want" ] && break
  done
  echo $((i * (warm + 1))) # seconds of jdmcache's own passes, the 1 s ramp of each included
}

# name rw bs qd metric extra
workloads=(
  "4k-randread-qd32 randread 4k 32 iops"
  "1m-read-qd8 read 1m 8 bw"
  "4k-randwrite-qd32-fsync64 randwrite 4k 32 iops --fsync=64"
)
measure() { # workload-name-regex rounds label uri [label uri]...: each workload, the servers taking turns
  local re=$1 n=$2 w name rw bs qd metric extra r k
  shift 2
  local labels=() uris=()
  while [ $# -gt 0 ]; do labels+=("$1"); uris+=("$2"); shift 2; done
  for w in "${workloads[@]}"; do
    read -r name rw bs qd metric extra <<<"$w"
    [[ $name =~ $re ]] || continue
    for ((r = 0; r < n; r++)); do
      for ((k = 0; k < ${#labels[@]}; k++)); do
        local i=$(((k + r) % ${#labels[@]}))
        log "$name on ${labels[$i]}, round $((r + 1))/$n"
        # shellcheck disable=SC2086
        run_fio "${uris[$i]}" "$rw" "$bs" "$qd" "$runtime" "$work/$name.${labels[$i]}.$r.json" $extra
      done
    done
  done
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
start_remote
log "filling the hot set (${hot_mib} MiB) of the remote with random data"
head -c "${hot_mib}M" /dev/urandom > "$work/hot.img"
nbdcopy "$work/hot.img" "$(uri_of "$work/remote.sock")"
rm -f "$work/hot.img"
start_filter "$work/remote.sock"
start_jdmcache "$(uri_of "$work/remote.sock")" jd
warm_s=$(warm_up "$(uri_of "$work/jd.sock")" "$work/jd.ctl" "$(uri_of "$work/filter.sock")")
log "warm after ${warm_s} s of 4K random reads"
echo "$(cached_blocks "$work/jd.ctl")" > "$work/warm.blocks"

measure . "$rounds" bare "$(uri_of "$work/remote.sock")" filter "$(uri_of "$work/filter.sock")" \
  jdmcache "$(uri_of "$work/jd.sock")"

log "restarting both caches"
stop_pid "$jd_pid"
stop_pid "$filter_pid"
start_filter "$work/remote.sock"
start_jdmcache "$(uri_of "$work/remote.sock")" jd
measure read 1 filter-restarted "$(uri_of "$work/filter.sock")" jdmcache-restarted "$(uri_of "$work/jd.sock")"
stop_pid "$jd_pid"
stop_pid "$filter_pid"

ceph_warm_s=
if [ "$ceph" = 1 ]; then
  log "starting a single-node Ceph"
  mkdir -p "$work/ceph"
  conf=$(bash "$here/ceph-cluster.sh" start "$work/ceph" "$origin_mib")
  qemu-nbd -f raw -t -e 64 -k "$work/rbd.sock" "rbd:rbd/img:conf=$conf" > "$work/qemu-nbd.out" 2>&1 &
  pids+=($!)
  wait_sock "$work/rbd.sock"
  head -c "${hot_mib}M" /dev/urandom > "$work/hot.img"
  nbdcopy "$work/hot.img" "$(uri_of "$work/rbd.sock")"
  rm -f "$work/hot.img"
  start_jdmcache "$(uri_of "$work/rbd.sock")" cephjd
  ceph_warm_s=$(warm_up "$(uri_of "$work/cephjd.sock")" "$work/cephjd.ctl")
  measure . "$rounds" ceph-bare "$(uri_of "$work/rbd.sock")" ceph-jdmcache "$(uri_of "$work/cephjd.sock")"
  stop_pid "$jd_pid"
fi

echo "remote: nbdkit memory ${origin_mib} MiB + delay filter ($delay reads and writes, 16 threads); hot set ${hot_mib} MiB," \
  "caches ${cache_mib} MiB; fio nbd engine, ${runtime} s per run, median of ${rounds} (restarted: 1); $(date -u +%Y-%m-%d), $(nproc) cores,"
echo "load average (1/5/15 min) before the run: $load0, after: $(cut -d" " -f1-3 /proc/loadavg)"
echo "jdmcache warm: $(cat "$work/warm.blocks") of $((hot_mib * 16)) hot blocks cached after ${warm_s} s of 4K random reads" \
  "$([ -n "$ceph_warm_s" ] && echo "(over Ceph: ${ceph_warm_s} s)")"
python3 - "$work" "$ceph" "${workloads[@]}" <<'PY'
import glob, json, statistics, sys
work, ceph, wls = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
def one(path, rw, metric):
    j = json.load(open(path))["jobs"][0]
    d = j["read"] if "read" in rw else j["write"]
    return d["iops"] if metric == "iops" else d["bw"] / 1024.0  # fio bw is KiB/s
def val(label, name, rw, metric):  # the median over the rounds
    return statistics.median(one(p, rw, metric) for p in glob.glob(f"{work}/{name}.{label}.[0-9]*.json"))
def fmt(v, metric):
    return f"{v/1000:.1f}k" if metric == "iops" else f"{v:.0f}"
rows = [w.split()[:5] for w in wls]
print(f"{'workload':<26} {'unit':<6} {'bare remote':>11} {'cache filter':>12} {'jdmcache':>9} {'jd/bare':>8} {'jd/filter':>9}")
for name, rw, bs, qd, metric in rows:
    b, f, j = (val(l, name, rw, metric) for l in ("bare", "filter", "jdmcache"))
    unit = "IOPS" if metric == "iops" else "MiB/s"
    print(f"{name:<26} {unit:<6} {fmt(b, metric):>11} {fmt(f, metric):>12} {fmt(j, metric):>9} {j/b:>7.1f}x {j/f:>8.2f}x")
print("after both caches restarted, measured at once:")
for name, rw, bs, qd, metric in rows:
    if "read" not in rw:
        continue
    b = val("bare", name, rw, metric)
    f, j = (val(l, name, rw, metric) for l in ("filter-restarted", "jdmcache-restarted"))
    unit = "IOPS" if metric == "iops" else "MiB/s"
    print(f"{name:<26} {unit:<6} {fmt(b, metric):>11} {fmt(f, metric):>12} {fmt(j, metric):>9} {j/b:>7.1f}x {j/f:>8.2f}x")
if ceph:
    print("over a single-node Ceph RBD image (qemu-nbd rbd:, one bluestore OSD on a sparse file), bare vs jdmcache warm:")
    for name, rw, bs, qd, metric in rows:
        b, j = (val(l, name, rw, metric) for l in ("ceph-bare", "ceph-jdmcache"))
        unit = "IOPS" if metric == "iops" else "MiB/s"
        print(f"{name:<26} {unit:<6} {fmt(b, metric):>11} {'-':>12} {fmt(j, metric):>9} {j/b:>7.1f}x {'-':>9}")
PY
