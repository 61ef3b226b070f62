#!/usr/bin/env bash
# ceph-cluster.sh start DIR [IMAGE_MIB] | stop-osd DIR | start-osd DIR | stop DIR
#
# A single-node Ceph in DIR from Debian's packages (ceph-mon, ceph-osd, ceph-common), as an ordinary set of
# processes: no systemd, no cephadm, no manager. One monitor on 127.0.0.1 (free ports picked at start), auth
# none, one bluestore OSD on a sparse 8 GiB file, one pool "rbd" of size 1 holding one RBD image "img" of
# IMAGE_MIB (default 1024) MiB. `start` prints the path of DIR/ceph.conf on stdout; qemu-nbd then exports the
# image as `qemu-nbd -f raw 'rbd:rbd/img:conf=DIR/ceph.conf'` (qemu-block-extra has the rbd driver).
#
# stop-osd kills the OSD with SIGKILL (a crash: the monitor is not told, clients' requests wait for it),
# start-osd starts it again and waits until the pool's placement groups are active; stop kills everything (by
# the PIDs in DIR/*.pid). Logs are in DIR/log. About 15 s to start; 0.5 GB of RAM.
set -euo pipefail
cmd=${1:?usage: ceph-cluster.sh start|stop-osd|start-osd|stop DIR [IMAGE_MIB]}
dir=${2:?usage: ceph-cluster.sh start|stop-osd|start-osd|stop DIR [IMAGE_MIB]}
image_mib=${3:-1024}
conf=$dir/ceph.conf
die() { echo "ceph-cluster: $*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
ceph_() { timeout 60 ceph -c "$conf" "$@"; }

wait_active() { # until the OSD is up and the pool takes a write (no manager runs, so no `ceph pg stat`)
  local i
  for i in $(seq 120); do
    if ceph_ osd stat 2>/dev/null | grep -q '1 up' &&
      timeout 10 rados -c "$conf" --rados-osd-op-timeout 5 -p rbd put ceph-cluster-probe "$conf" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  die "the OSD did not become usable (see $dir/log)"
}

start_osd() {
  ceph-osd -c "$conf" -i 0 -f >> "$dir/log/osd.0.out" 2>&1 &
  echo $! > "$dir/osd.pid"
  wait_active
}

kill_pidfile() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  fi
  rm -f "$f"
}

case $cmd in
start)
  for t in ceph-mon ceph-osd ceph monmaptool rbd rados python3; do
    command -v $t >/dev/null || die "$t is missing (apt-get install ceph-mon ceph-osd ceph-common)"
  done
  mkdir -p "$dir/log" "$dir/run" "$dir/mon" "$dir/osd/ceph-0"
  fsid=$(cat /proc/sys/kernel/random/uuid)
  p2=$(free_port) p1=$(free_port)
  cat > "$conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$p2,v1:127.0.0.1:$p1]
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms bind ipv6 = false
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
[mon]
mon data = $dir/mon/\$cluster-\$id
[osd]
osd data = $dir/osd/\$cluster-\$id
osd objectstore = bluestore
bluestore block path = $dir/osd/\$cluster-\$id/block.img
bluestore block create = true
bluestore block size = 8589934592
bluestore fsck on mount = false
osd memory target = 939524096
osd heartbeat grace = 5
EOF
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$p2,v1:127.0.0.1:$p1]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >> "$dir/log/mon.a.out" 2>&1 \
    || die "ceph-mon --mkfs failed: $(tail -3 "$dir/log/mon.a.out")"
  ceph-mon -c "$conf" -i a -f >> "$dir/log/mon.a.out" 2>&1 &
  echo $! > "$dir/mon.pid"
  for _ in $(seq 300); do ceph_ mon stat >/dev/null 2>&1 && break; sleep 0.1; done
  ceph_ mon stat >/dev/null 2>&1 || die "monitor did not start: $(tail -3 "$dir/log/mon.a.out")"
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(ceph_ osd new "$uuid")
  [ "$id" = 0 ] || die "unexpected osd id $id"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" >> "$dir/log/osd.0.out" 2>&1 \
    || die "ceph-osd --mkfs failed: $(tail -3 "$dir/log/osd.0.out")"
  ceph_ osd pool create rbd 8 8 >/dev/null 2>&1
  ceph_ osd pool set rbd size 1 --yes-i-really-mean-it >/dev/null 2>&1
  ceph_ osd pool application enable rbd rbd >/dev/null 2>&1
  start_osd
  timeout 60 rbd -c "$conf" create --size "$image_mib" rbd/img
  echo "$conf"
  ;;
stop-osd) kill_pidfile "$dir/osd.pid" ;;
start-osd) start_osd ;;
stop)
  kill_pidfile "$dir/osd.pid"
  kill_pidfile "$dir/mon.pid"
  ;;
*) die "unknown command $cmd" ;;
esac
