#!/usr/bin/env bash
# soak.sh [SECONDS] - data integrity under cache churn: `jdmcache serve` with a tiny cache in front of a big
# origin, driven by fio over NBD with a skewed mix of reads and writes whose every write is read back and
# checked (crc32c), so promotions, demotions and write-backs run all the time under the I/O.
#
# Origin ORIGIN_MIB (default 512), cache CACHE_MIB (default 8: 128 blocks of 64 KiB), writeback, smq. fio: 2 jobs,
# QD 8, 16 KiB blocks (partial cache blocks), 70% reads, zipf 0.8, --verify=crc32c --verify_backlog=32
# --verify_fatal=1, for SECONDS (default 120). Every 15 s it prints the status line's counters and, at the end,
# the cache map and the metrics that moved. Then it stops the server (SIGTERM: clean shutdown), checks the
# metadata with `jdmcache check`, and prints PASS or FAIL. Work files go to a temp dir, removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-120}
origin_mib=${ORIGIN_MIB:-512}
cache_mib=${CACHE_MIB:-8}
for t in fio java python3; do
  command -v $t >/dev/null || { echo "soak: $t is missing (apt-get install fio)" >&2; exit 2; }
done
fio --enghelp=nbd >/dev/null 2>&1 || { echo "soak: this fio has no nbd ioengine" >&2; exit 2; }
jar=$root/jdmcache-cli/target/jdmcache.jar
[ -f "$jar" ] || (cd "$root" && ./mvnw -B -q package -DskipTests)

work=$(mktemp -d)
spid=
cleanup() {
  [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
truncate -s "${origin_mib}M" "$work/origin.img"
truncate -s "${cache_mib}M" "$work/cache.img"
truncate -s 16M "$work/meta.img"
jd() { java -jar "$jar" "$@"; }
java -jar "$jar" serve --origin "$work/origin.img" --cache "$work/cache.img" --metadata "$work/meta.img" \
  --control "$work/control.sock" --listen "127.0.0.1:$port" > "$work/serve.out" 2>&1 &
spid=$!
for _ in $(seq 100); do [ -S "$work/control.sock" ] && break; sleep 0.1; done
[ -S "$work/control.sock" ] || { cat "$work/serve.out" >&2; echo "soak: the server did not start" >&2; exit 1; }

echo "soak: ${seconds} s of fio randrw (verified) over a ${origin_mib} MiB origin behind a ${cache_mib} MiB cache"
fio --name=soak --ioengine=nbd --uri="nbd://127.0.0.1:$port/" --rw=randrw --rwmixread=70 \
  --random_distribution=zipf:0.8 --bs=16k --iodepth=8 --numjobs=2 --size="${origin_mib}m" --time_based \
  --runtime="$seconds" --verify=crc32c --verify_backlog=32 --verify_fatal=1 --verify_state_save=0 --randrepeat=0 \
  --group_reporting > "$work/fio.out" 2>&1 &
fpid=$!
printf '%6s %10s %10s %10s %10s %8s %8s %6s\n' time read-hits read-miss write-hits write-miss demoted promoted dirty
t=0
while kill -0 "$fpid" 2>/dev/null; do
  sleep 15 & wait $! || true
  t=$((t + 15))
  kill -0 "$fpid" 2>/dev/null || break
  read -r -a f <<< "$(jd status --control "$work/control.sock")"
  printf '%5ss %10s %10s %10s %10s %8s %8s %6s\n' "$t" "${f[7]}" "${f[8]}" "${f[9]}" "${f[10]}" "${f[11]}" \
    "${f[12]}" "${f[13]}"
done
rc=0
wait "$fpid" || rc=$?
jd status --map --rows 8 --control "$work/control.sock"
jd metrics --control "$work/control.sock" | grep -E '^jdmcache_(writebacks|promotions|demotions|nbd_errors|nbd_requests)' \
  | grep -v ' 0$' || true
kill -TERM "$spid"
wait "$spid" || rc=$?
spid=
jd check -q "$work/meta.img" || { echo "soak: the metadata fails cache_check" >&2; rc=1; }
grep -E 'err=|verify' "$work/fio.out" || true
if [ "$rc" -eq 0 ] && ! grep -q 'verify: bad' "$work/fio.out"; then
  echo "soak: PASS"
else
  cat "$work/fio.out" "$work/serve.out" >&2
  echo "soak: FAIL"
  exit 1
fi
