#!/usr/bin/env bash
# record-traces.sh [OUT_DIR] - records block traces of real programs through 'jdmcache serve', for the policy
# simulator (bench/policy-sim.sh replays them). Default OUT_DIR: bench/traces. Needs root (mount, losetup,
# cgroups), /dev/fuse, nbdfuse, e2fsprogs, xz, python3 and Debian's postgresql (pgbench).
#
# One 'jdmcache serve' (a 4 GiB sparse origin, a 256 MiB cache, 64 KiB blocks) is exposed as a file by nbdfuse,
# attached to a loop device (direct I/O, so the FUSE file's page cache does not absorb re-reads) and formatted
# ext4. Each workload runs in a memory cgroup of MEM (default 64M) - less than its data, so that its page cache
# cannot hold it and re-reads reach the device as they would reach a cache device - with the page cache dropped
# before it starts, while the server records its requests ('jdmcache message trace start FILE'):
#   build.jdmtrace     unpack a source tree of ~180 MB (this machine's Python standard library and C headers,
#                      packed beforehand), byte-compile the Python part (python3 -m compileall) and pack the whole
#                      tree again
#   find-grep.jdmtrace find over the tree and 'grep -r' through it for two words, one after the other
#   pgbench.jdmtrace   PostgreSQL (shared_buffers 16MB, synchronous_commit off so that the trace is not all WAL
#                      flushes) with its data directory on the volume: pgbench at scale PG_SCALE (default 50,
#                      about 750 MB) initialised outside the trace, then PG_SECONDS (default 90) of its
#                      TPC-B-like transactions from 4 clients
# The traces are written compressed (xz) to OUT_DIR as NAME.jdmtrace.xz, and a summary of each is printed
# (requests, bytes, 'jdmcache sim' at 1/5/10% of its distinct blocks for lru and opt). WORK=DIR keeps the work
# files there (default: a temporary folder under /var/tmp, removed at the end). JAR=FILE runs another build of
# jdmcache. Processes are stopped by PID.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=$(mkdir -p "${1:-$here/traces}" && cd "${1:-$here/traces}" && pwd)
mem=${MEM:-64M}
pg_scale=${PG_SCALE:-50}
pg_seconds=${PG_SECONDS:-90}
pgbin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

[ "$(id -u)" = 0 ] || { echo "record-traces: needs root (mount, losetup, cgroups)" >&2; exit 2; }
for t in nbdfuse losetup mkfs.ext4 mount umount xz python3 java; do
  command -v $t >/dev/null || { echo "record-traces: $t is missing" >&2; exit 2; }
done
[ -e /dev/fuse ] || { echo "record-traces: no /dev/fuse (nbdfuse needs FUSE)" >&2; exit 2; }
[ -x "$pgbin/pgbench" ] || { echo "record-traces: no PostgreSQL (apt-get install postgresql)" >&2; exit 2; }
jar=${JAR:-$root/jdmcache-cli/target/jdmcache.jar}
[ -f "$jar" ] || (cd "$root" && ./mvnw -B -q -pl jdmcache-cli -am package -DskipTests)

work=${WORK:-$(mktemp -d /var/tmp/record-traces.XXXXXX)}
mkdir -p "$work"/{fuse,mnt}
spid= fpid= loopdev= cg= pgdata=
jd() { java -jar "$jar" "$@"; }
cleanup() {
  set +e
  [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ] && su postgres -s /bin/sh -c "$pgbin/pg_ctl -D $pgdata -m fast stop" >/dev/null 2>&1
  mountpoint -q "$work/mnt" && umount "$work/mnt"
  [ -n "$loopdev" ] && losetup -d "$loopdev"
  mountpoint -q "$work/fuse" && { fusermount3 -u "$work/fuse" 2>/dev/null || umount "$work/fuse"; }
  [ -n "$fpid" ] && kill "$fpid" 2>/dev/null
  [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
  [ -n "$cg" ] && [ -d "$cg" ] && rmdir "$cg" 2>/dev/null
  [ -n "${WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# ---- a memory cgroup for the workloads (v2, or v1's memory controller); else caches dropped every 2 s
if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
  cg=/sys/fs/cgroup/jdmcache-record-$$
  mkdir "$cg" && echo "$mem" > "$cg/memory.max"
elif [ -d /sys/fs/cgroup/memory ]; then
  cg=/sys/fs/cgroup/memory/jdmcache-record-$$
  mkdir "$cg" && echo "$mem" > "$cg/memory.limit_in_bytes"
fi
limited() { # CMD...: runs CMD in the cgroup (or with periodic cache drops)
  if [ -n "$cg" ]; then
    (echo $BASHPID > "$cg/cgroup.procs" 2>/dev/null || echo $BASHPID > "$cg/tasks"; "$@")
  else
    (while sleep 2; do echo 1 > /proc/sys/vm/drop_caches; done) & local d=$!
    "$@"; local rc=$?; kill $d; return $rc
  fi
}
cold() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# ---- the served volume, ext4 on it
truncate -s 4G "$work/origin.img"; truncate -s 256M "$work/cache.img"; truncate -s 16M "$work/meta.img"
(cd "$work" && exec java -Xmx512m -jar "$jar" serve --origin origin.img --cache cache.img --metadata meta.img \
  --listen "unix:$work/nbd.sock" --control "$work/ctl.sock") > "$work/serve.out" 2> "$work/serve.err" &
spid=$!
for _ in $(seq 300); do grep -q 'serving nbd' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q 'serving nbd' "$work/serve.out" || { echo "record-traces: serve did not start: $(cat "$work/serve.err")" >&2; exit 1; }
nbdfuse "$work/fuse/disk" "nbd+unix:///?socket=$work/nbd.sock" & fpid=$!
for _ in $(seq 100); do [ -e "$work/fuse/disk" ] && break; sleep 0.1; done
[ -e "$work/fuse/disk" ] || { echo "record-traces: nbdfuse did not mount" >&2; exit 1; }
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$work/fuse/disk"
loopdev=$(losetup -f --show --direct-io=on "$work/fuse/disk" 2>/dev/null || true)
if [ -z "$loopdev" ] || [ "$(cat /sys/block/"${loopdev#/dev/}"/loop/dio 2>/dev/null)" != 1 ]; then
  [ -n "$loopdev" ] && losetup -d "$loopdev"
  loopdev=$(losetup -f --show "$work/fuse/disk")
  echo "record-traces: no direct I/O on the loop device here; the FUSE file's cache is dropped before each workload" >&2
fi
mount "$loopdev" "$work/mnt"

trace() { # NAME CMD...: the workload CMD, traced to $work/NAME.jdmtrace
  local name=$1; shift
  cold
  jd message --control "$work/ctl.sock" trace start "$work/$name.jdmtrace" >&2
  local t0=$SECONDS
  "$@"
  sync
  jd message --control "$work/ctl.sock" trace stop >&2
  echo "record-traces: $name took $((SECONDS - t0)) s" >&2
}

# ---- 1. unpack and build a source tree
src=$work/src.tar.gz
tar czf "$src" -C /usr/lib python3.11 -C /usr include 2>/dev/null || true
mkdir -p "$work/mnt/build"
build() {
  tar xzf "$src" -C "$work/mnt/build"
  python3 -m compileall -q -j 1 "$work/mnt/build/python3.11" > /dev/null || true
  tar cf "$work/mnt/build.tar" -C "$work/mnt/build" .
}
trace build limited build

# ---- 2. find and grep over the tree
findgrep() {
  find "$work/mnt/build" -type f | wc -l > /dev/null
  grep -r -l -e 'deprecated' "$work/mnt/build" > /dev/null || true
  grep -r -c -e 'struct' "$work/mnt/build" > /dev/null || true
}
trace find-grep limited findgrep

# ---- 3. PostgreSQL running pgbench
pgdata=$work/mnt/pg
mkdir -p "$pgdata" "$work/pgsock"; chown postgres: "$pgdata" "$work/pgsock"; chmod 700 "$pgdata"
pgsu() { su postgres -s /bin/sh -c "$*"; }
pgsu "$pgbin/initdb -D $pgdata -A trust" > "$work/initdb.out"
pgstart() {
  pgsu "$pgbin/pg_ctl -D $pgdata -l $work/pgsock/pg.log -w -o \"-k $work/pgsock -c listen_addresses='' -c shared_buffers=16MB -c synchronous_commit=off\" start" > /dev/null
}
pgstart
pgsu "$pgbin/pgbench -h $work/pgsock -i -q -s $pg_scale postgres" > "$work/pgbench-init.out" 2>&1
pgsu "$pgbin/pg_ctl -D $pgdata -m fast -w stop" > /dev/null
pgbench_run() {
  limited pgstart
  pgsu "$pgbin/pgbench -h $work/pgsock -c 4 -j 2 -T $pg_seconds postgres" > "$work/pgbench.out" 2>&1
  pgsu "$pgbin/pg_ctl -D $pgdata -m fast -w stop" > /dev/null
}
trace pgbench pgbench_run
grep -E '^(tps|number of transactions actually processed)' "$work/pgbench.out" | sed 's/^/record-traces: pgbench: /' >&2

# ---- compress and summarise
for name in build find-grep pgbench; do
  xz -9 -T1 -c "$work/$name.jdmtrace" > "$out/$name.jdmtrace.xz"
done
printf '%-20s %12s %14s %10s\n' trace requests "raw bytes" "xz bytes"
for name in build find-grep pgbench; do
  raw=$(stat -c %s "$work/$name.jdmtrace")
  printf '%-20s %12s %14s %10s\n' "$name" "$(python3 - "$work/$name.jdmtrace" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()[24:]
n = i = 0
while i < len(b):
    i += 1; n += 1
    for _ in range(3):
        while b[i] & 0x80: i += 1
        i += 1
print(n)
PY
)" "$raw" "$(stat -c %s "$out/$name.jdmtrace.xz")"
done
args=()
for name in build find-grep pgbench; do args+=(--trace "$out/$name.jdmtrace.xz"); done
jd sim "${args[@]}" --cache-blocks 1%,5%,10% --policies lru,opt
