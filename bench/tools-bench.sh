#!/usr/bin/env bash
# tools-bench.sh [SIZES...] - jdmcache's cache tools against Debian's thin-provisioning-tools, in one run.
#
# For each size (cache blocks; default 1000000 10000000): generates the XML with the vector generator of
# ../shared/vectors/make-vectors.sh (fully mapped, 30% dirty, one hint per block, block size 128), makes
# format 2 metadata with each tool's restore, then times restore, check and dump of both tools on the same
# input (median of RUNS runs, default 3; wall time and peak RSS from /usr/bin/time) and prints a table
# with the ratio jdmcache/reference. Work files go to $BENCH_DIR (default: a temp dir, removed at the end).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
shared=${JDMCACHE_SHARED:-$root/../shared}
runs=${RUNS:-3}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
for t in cache_restore cache_check cache_dump cache_metadata_size python3; do
  command -v $t >/dev/null || { echo "tools-bench: $t is missing (apt-get install thin-provisioning-tools python3)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "tools-bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
jd=$root/bin/jdmcache
[ -f "$root/jdmcache-cli/target/jdmcache.jar" ] || (cd "$root" && ./mvnw -B -q package -DskipTests)
work=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
sed -n '/^cat > "\$PY" <<.PYEOF./,/^PYEOF/p' "$shared/vectors/make-vectors.sh" | sed '1d;$d' > "$work/gen.py"
# the generator's origin blocks are (cb * 40503 + 17) mod 2^24, which repeats beyond 2^24 cache blocks (Debian's
# restore takes such duplicates, jdmcache's refuses them): mod 2^40 keeps them distinct at any size
sed -i 's/% 16777216/% 1099511627776/' "$work/gen.py"

# time_it LABEL CMD... : runs CMD $runs times, prints "median_seconds max_rss_mb"
time_it() {
  local i out secs=() rss=()
  for ((i = 0; i < runs; i++)); do
    if ! /usr/bin/time -o "$work/time.out" -f '%e %M' "$@" >/dev/null 2>"$work/stderr.out"; then
      # cache_check exits 1 on findings it prints; anything else failing is an error
      if [ "$(basename "$1")" != cache_check ] || [ "$(tail -c1 "$work/time.out")" = "" ]; then
        echo "tools-bench: failed: $* ($(head -c 300 "$work/stderr.out"))" >&2; exit 1
      fi
    fi
    out=$(tail -1 "$work/time.out")
    secs+=("${out% *}"); rss+=("${out#* }")
  done
  printf '%s\n' "${secs[@]}" | sort -g | awk -v n="$runs" '{a[NR]=$1} END{printf "%s ", a[int((n+1)/2)]}'
  printf '%s\n' "${rss[@]}" | sort -g | tail -1 | awk '{printf "%.0f\n", $1/1024}'
}

printf '%-10s %-8s %12s %12s %7s %10s %10s %7s\n' blocks tool "jdmcache s" "debian s" ratio "jd RSS MB" "deb RSS MB" ratio
for n in "${sizes[@]}"; do
  xml=$work/x$n.xml
  [ -f "$xml" ] || python3 "$work/gen.py" gen "$n" 100 30 12345 1 > "$xml"
  s=$(cache_metadata_size --nr-blocks "$n" | cut -d' ' -f1)
  mib=$(( (s * 512 + 1048575) / 1048576 ))
  ref=$work/ref$n.img; ours=$work/ours$n.img
  rm -f "$ref" "$ours"; truncate -s ${mib}M "$ref"; truncate -s ${mib}M "$ours"
  row() {
    local name=$1 a b; shift
    a=$(time_it "${JD_CMD[@]}"); b=$(time_it "${REF_CMD[@]}")
    awk -v n="$n" -v t="$name" -v a="$a" -v b="$b" 'BEGIN{split(a,x," "); split(b,y," ");
      printf "%-10s %-8s %12.2f %12.2f %7.2f %10d %10d %7.2f\n", n, t, x[1], y[1], (y[1]>0?x[1]/y[1]:0), x[2], y[2], (y[2]>0?x[2]/y[2]:0)}'
  }
  has() { "$jd" --help 2>/dev/null | grep -qE "^ +$1( |$)"; }
  if has restore; then
    JD_CMD=("$jd" restore -q -i "$xml" -o "$ours" --metadata-version 2)
  else
    JD_CMD=(true)
  fi
  REF_CMD=(cache_restore -q -i "$xml" -o "$ref" --metadata-version 2)
  row restore
  [ "${JD_CMD[0]}" = true ] && cp "$ref" "$ours"
  JD_CMD=("$jd" check "$ref"); REF_CMD=(cache_check "$ref"); row check
  if has dump; then JD_CMD=("$jd" dump "$ref"); else JD_CMD=(true); fi
  REF_CMD=(cache_dump "$ref"); row dump
done
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(java -version 2>&1 | head -1); $(cache_check -V | sed 's/^/thin-provisioning-tools /')"
