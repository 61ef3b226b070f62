#!/usr/bin/env bash
# nbd-bench.sh [SIZE_MIB] - jdmcache against `nbdkit file` on the same file, in one run.
#
# TARGET=file (default): jdmcache-nbd's FileBackend serves the file. TARGET=cache: `jdmcache serve` serves it
# as the origin of a writeback cache big enough to hold all of it (smq, 64 KiB blocks), warmed up until every
# block is in the cache, so every request is a cache hit: the issue's "fully warm cache" comparison.
#
# Fills a SIZE_MIB (default 1024) file with random data, serves it with both servers on 127.0.0.1 TCP, and runs
# fio's nbd ioengine against each: 4K randread/randwrite at QD1 and QD32, 1 MiB sequential read/write at QD1
# and QD8 (one job, --time_based, RUNTIME seconds each, default 10, after a 1 s ramp). Each workload runs RUNS
# times (default 3), alternating the servers and which goes first; the table shows the median [min-max] and the ratio
# jdmcache/nbdkit of the medians (>1 = jdmcache faster), and the server's CPU time (user+system, from
# /proc/PID/stat) per request, median over the runs: steadier than throughput on a shared VM.
# TARGET=trace: the cost of 'serve --trace': the same warm cache as TARGET=cache, one server, each run made
# twice, with its requests recorded ('message trace start', to a file in the work dir) and without, taking turns;
# the table compares the two (ratio = traced/untraced, <1 = tracing costs), then the requests each traced run
# wrote and dropped and the trace's bytes per request. nbdkit is not run. Work files go to $BENCH_DIR (default: a temp dir,
# removed at the end). ONLY=REGEX runs just the workloads whose name matches. Servers are stopped by PID. JAVA_OPTS (default -Xmx1g) goes to the Java server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
size_mib=${1:-1024}
runs=${RUNS:-3}
runtime=${RUNTIME:-10}
java_opts=${JAVA_OPTS:--Xmx1g}
for t in fio nbdkit java python3; do
  command -v $t >/dev/null || { echo "nbd-bench: $t is missing (apt-get install fio nbdkit)" >&2; exit 2; }
done
fio --enghelp=nbd >/dev/null 2>&1 || { echo "nbd-bench: this fio has no nbd ioengine" >&2; exit 2; }
target=${TARGET:-file}
classes=$root/jdmcache-nbd/target/classes
jar=$root/jdmcache-cli/target/jdmcache.jar
if [ "$target" = cache ] || [ "$target" = trace ]; then
  [ -f "$jar" ] || (cd "$root" && ./mvnw -B -q package -DskipTests)
else
  [ -f "$classes/io/jdmcache/nbd/FileServerMain.class" ] || (cd "$root" && ./mvnw -B -q -pl jdmcache-nbd compile)
fi

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
jpid= kpid=
cleanup() {
  [ -n "$jpid" ] && kill "$jpid" 2>/dev/null && wait "$jpid" 2>/dev/null || true
  [ -n "$kpid" ] && kill "$kpid" 2>/dev/null || true
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

img=$work/disk.img
echo "nbd-bench: writing ${size_mib} MiB of random data to $img" >&2
head -c "${size_mib}M" /dev/urandom > "$img"

jport=$(free_port)
if [ "$target" = cache ] || [ "$target" = trace ]; then
  # a cache as big as the origin plus 1/16: the whole working set fits
  cache_mib=$((size_mib + size_mib / 16 + 1))
  truncate -s "${cache_mib}M" "$work/cache.img"
  truncate -s 64M "$work/meta.img"
  (cd "$work" && java $java_opts -jar "$jar" serve --origin "$img" --cache "$work/cache.img" \
    --metadata "$work/meta.img" --control "$work/control.sock" --listen "127.0.0.1:$jport") \
    > "$work/jdmcache.out" 2>&1 &
  jpid=$!
  ready='serving nbd'
else
  java $java_opts -cp "$classes" io.jdmcache.nbd.FileServerMain "$img" --listen "127.0.0.1:$jport" \
    > "$work/jdmcache.out" 2>&1 &
  jpid=$!
  ready='^listening on'
fi
for _ in $(seq 200); do grep -q "$ready" "$work/jdmcache.out" 2>/dev/null && break; sleep 0.1; done
grep -q "$ready" "$work/jdmcache.out" || { echo "nbd-bench: jdmcache server did not start: $(cat "$work/jdmcache.out")" >&2; exit 1; }
if [ "$target" = cache ] || [ "$target" = trace ]; then
  # warm up: write the file's own contents through the cache (whole-block writes are cached at once in
  # writeback mode), then wait until the status shows every block cached and written back
  want=$(( size_mib * 16 ))
  nbdcopy "$img" "nbd://127.0.0.1:$jport/"
  for _ in $(seq 120); do
    st=$(java -jar "$jar" status --control "$work/control.sock")
    used=$(awk '{split($7,a,"/"); print a[1]}' <<<"$st"); dirty=$(awk '{print $14}' <<<"$st")
    [ "$used" -ge "$want" ] && [ "$dirty" -eq 0 ] && break
    sleep 1
  done
  echo "nbd-bench: warm cache: $used of $want blocks cached, $dirty dirty" >&2
fi

if [ "$target" = trace ]; then
  servers=(traced untraced)
  declare -A uri=([traced]="nbd://127.0.0.1:$jport/" [untraced]="nbd://127.0.0.1:$jport/")
  declare -A spid=([traced]="$jpid" [untraced]="$jpid")
else
  servers=(jdmcache nbdkit)
  kport=$(free_port)
  nbdkit -P "$work/nbdkit.pid" -i 127.0.0.1 -p "$kport" file "$img"
  for _ in $(seq 50); do [ -s "$work/nbdkit.pid" ] && break; sleep 0.1; done
  kpid=$(cat "$work/nbdkit.pid")
  declare -A uri=([jdmcache]="nbd://127.0.0.1:$jport/" [nbdkit]="nbd://127.0.0.1:$kport/")
  declare -A spid=([jdmcache]="$jpid" [nbdkit]="$kpid")
fi
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
message() { java -jar "$jar" message --control "$work/control.sock" "$@"; }

# name rw bs iodepth metric(iops|bw)
workloads=(
  "4k-randread-qd1 randread 4k 1 iops"
  "4k-randread-qd32 randread 4k 32 iops"
  "4k-randwrite-qd1 randwrite 4k 1 iops"
  "4k-randwrite-qd32 randwrite 4k 32 iops"
  "1m-read-qd1 read 1m 1 bw"
  "1m-read-qd8 read 1m 8 bw"
  "1m-write-qd1 write 1m 1 bw"
  "1m-write-qd8 write 1m 8 bw"
)
if [ -n "${ONLY:-}" ]; then # ONLY=REGEX: just the workloads whose name matches
  keep=()
  for w in "${workloads[@]}"; do [[ ${w%% *} =~ $ONLY ]] && keep+=("$w"); done
  workloads=("${keep[@]}")
fi

run_fio() { # server rw bs qd seconds out.json; writes the server's CPU ticks used to out.json.cpu
  local t0
  [ "$1" = traced ] && message trace start "$6.jdmtrace" >/dev/null
  t0=$(ticks "${spid[$1]}")
  fio --name=b --ioengine=nbd --uri="${uri[$1]}" --rw="$2" --bs="$3" --iodepth="$4" --numjobs=1 \
    --time_based --runtime="$5" --ramp_time=1 --randrepeat=0 --norandommap \
    --output-format=json --output="$6" >/dev/null
  echo $(($(ticks "${spid[$1]}") - t0)) > "$6.cpu"
  [ "$1" = traced ] && message trace stop > "$6.trace"
  return 0
}

echo "nbd-bench: warm-up" >&2
for s in "${servers[@]}"; do
  run_fio $s randread 4k 8 3 "$work/warm.json"
  run_fio $s randwrite 4k 8 3 "$work/warm.json"
done

for w in "${workloads[@]}"; do
  read -r name rw bs qd metric <<<"$w"
  for ((i = 0; i < runs; i++)); do
    order="${servers[0]} ${servers[1]}"
    ((i % 2)) && order="${servers[1]} ${servers[0]}" # alternate who goes first, so drift in the machine's speed evens out
    for s in $order; do
      echo "nbd-bench: $name $s run $((i + 1))/$runs" >&2
      run_fio $s "$rw" "$bs" "$qd" "$runtime" "$work/$name.$s.$i.json"
    done
  done
done

case $target in
  cache) what="serve, warm writeback cache" ;;
  trace) what="serve, warm writeback cache, with and without serve's request trace" ;;
  *) what="FileBackend" ;;
esac
echo "target: $target (jdmcache $what)"
python3 - "$work" "$runs" "$(getconf CLK_TCK)" "${servers[0]}" "${servers[1]}" "${workloads[@]}" <<'PY'
import json, os, re, sys, statistics
work, runs, hz, a, b, wls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6:]
def cpu_us_per_op(path):
    j = json.load(open(path))["jobs"][0]
    ops = j["read"]["total_ios"] + j["write"]["total_ios"]
    return int(open(path + ".cpu").read()) * 1e6 / hz / max(ops, 1)
def val(path, rw, metric):
    j = json.load(open(path))["jobs"][0]
    d = j["read"] if "read" in rw else j["write"]
    return d["iops"] if metric == "iops" else d["bw"] / 1024.0  # fio bw is KiB/s
def fmt(v, metric):
    return f"{v/1000:.1f}k" if metric == "iops" else f"{v:.0f}"
label = {"jdmcache": "jdmcache", "nbdkit": "nbdkit file", "traced": "traced", "untraced": "untraced"}
print(f"{'workload':<18} {'unit':<6} {label[a] + ' median [min-max]':<28} {label[b] + ' median [min-max]':<30} "
      f"{'ratio':<6} cpu us/op {a} {b}")
traces = []
for w in wls:
    name, rw, bs, qd, metric = w.split()
    row, cpu = {}, {}
    if a == "traced":
        for i in range(runs):
            p = f"{work}/{name}.traced.{i}.json"
            m = re.search(r"(\d+) requests written, (\d+) dropped", open(p + ".trace").read())
            written, dropped = int(m.group(1)), int(m.group(2))
            traces.append((name, i, written, dropped, os.path.getsize(p + ".jdmtrace")))
    for s in (a, b):
        cpu[s] = statistics.median(cpu_us_per_op(f"{work}/{name}.{s}.{i}.json") for i in range(runs))
        v = sorted(val(f"{work}/{name}.{s}.{i}.json", rw, metric) for i in range(runs))
        row[s] = (statistics.median(v), v[0], v[-1])
    cell = lambda s: f"{fmt(row[s][0], metric)} [{fmt(row[s][1], metric)}-{fmt(row[s][2], metric)}]"
    unit = "IOPS" if metric == "iops" else "MiB/s"
    print(f"{name:<18} {unit:<6} {cell(a):<28} {cell(b):<30} {row[a][0]/row[b][0]:<6.2f} {cpu[a]:>8.1f} {cpu[b]:>7.1f}")
if traces:
    print()
    print(f"{'traced run':<22} {'requests written':>16} {'dropped':>8} {'trace bytes':>12} {'bytes/request':>13}")
    for name, i, written, dropped, size in traces:
        print(f"{name + ' ' + str(i + 1):<22} {written:>16} {dropped:>8} {size:>12} {(size - 24) / max(written, 1):>13.2f}")
PY
