#!/bin/bash
# run-kernel-nbd.sh - attach the Linux kernel's own NBD client (nbd.ko driven by
# Debian's nbd-client) to an NBD server on this host, from a throw-away qemu guest.
#
# usage: run-kernel-nbd.sh --port PORT [--export NAME] [--client-opt OPT]...
#          [--script GUEST.sh] [--file PATH]... [--no-connect]
#          [--timeout SECONDS] [--mem MIB] [--accel tcg|kvm] [--console]
#
# The guest (Debian's kernel, busybox, the host's nbd-client) gets qemu user-mode
# networking with a static address (10.0.2.15/24; the host's 127.0.0.1 is
# 10.0.2.2 there), loads nbd and virtio_net, runs
#   nbd-client 10.0.2.2 PORT /dev/nbd0 [-N NAME] [client opts]
# prints NBD_CONNECT:, NBD_SIZE:, NBD_BLOCK:, sources GUEST.sh in a subshell
# (busybox sh; $NBD_DEV, $NBD_HOST, $NBD_PORT, $JOB_FILES - where the --file
# copies are - and nbd_connect/nbd_disconnect are set; ext4 and crc32c are
# loaded, so busybox mke2fs + mount work), prints SCRIPT_RC:, disconnects
# with `nbd-client -d`, prints NBD_DISCONNECT:, KERNEL: lines (dmesg lines about
# nbd, ext4, I/O errors and oopses) and powers off. --no-connect leaves
# connecting to the script. A server listening on 127.0.0.1 is enough: qemu's
# user network connects to it from this host.
#
# Exit status: 0 ok, 1 bad arguments, 2 nbd-client could not connect,
# 3 guest script failed, 4 nbd-client -d failed, 5 the VM did not finish
# (timeout, panic, qemu error), 6 a prerequisite could not be had (qemu,
# cpio or nbd-client missing and not installable, kernel package not
# downloadable); the reason is the last line on stderr.
#
# Build cache: ${KERNEL_ORACLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kernel-oracle},
# the kernel-oracle's folder: its debs/ and kernel-pkg are shared, the kernel and
# initramfs built here live in nbd-client/<kernel package>-<hash>/ (the hash
# covers this script and the nbd-client binary, so a change to either rebuilds).
# Kernel package: $KERNEL_ORACLE_KERNEL_PKG, else the pinned one, else what
# linux-image-amd64 depends on.
set -euo pipefail
usage() { sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit "${1:-0}"; }
bad() { echo "run-kernel-nbd: $*" >&2; exit 1; }
unavailable() { echo "run-kernel-nbd: unavailable: $*" >&2; exit 6; }

PORT='' EXPORT='' COPTS=() SCRIPT='' FILES=() CONNECT=1 TIMEOUT=180 MEM=512 ACCEL='' CONSOLE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=${2-}; shift;;
    --export) EXPORT=${2-}; shift;;
    --client-opt) COPTS+=("${2-}"); shift;;
    --script) SCRIPT=${2-}; shift;;
    --file) FILES+=("${2-}"); shift;;
    --no-connect) CONNECT=0;;
    --timeout) TIMEOUT=${2-}; shift;;
    --mem) MEM=${2-}; shift;;
    --accel) ACCEL=${2-}; shift;;
    --console) CONSOLE=1;;
    -h|--help) usage;;
    *) echo "run-kernel-nbd: unknown argument: $1" >&2; usage 1 >&2;;
  esac
  shift
done
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || bad "--port 1..65535 is required"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || bad "--timeout takes seconds"
[[ "$MEM" =~ ^[0-9]+$ ]] || bad "--mem takes MiB"
[ -z "$SCRIPT" ] || [ -f "$SCRIPT" ] || bad "no such script: $SCRIPT"
for f in ${FILES[@]+"${FILES[@]}"}; do [ -f "$f" ] || bad "no such file: $f"; done
case "$ACCEL" in ''|tcg|kvm) ;; *) bad "--accel tcg or kvm";; esac

export PATH=$PATH:/usr/sbin:/sbin
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -q -o APT::Sandbox::User=root "$@" >&2; }
have() {  # have PROGRAM PACKAGE: install the package when the program is missing
  command -v "$1" >/dev/null && return
  echo "run-kernel-nbd: installing $2" >&2
  { apt_get install -y --no-install-recommends "$2" || { apt_get update && apt_get install -y --no-install-recommends "$2"; }; } ||
    unavailable "$1 is not installed and apt-get could not install $2"
  command -v "$1" >/dev/null || unavailable "$1 not found after installing $2"
}
have qemu-system-x86_64 qemu-system-x86; have cpio cpio; have nbd-client nbd-client
CLIENT=$(command -v nbd-client)

CDIR=${KERNEL_ORACLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kernel-oracle}
mkdir -p "$CDIR/debs" "$CDIR/nbd-client"
kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
KPKG=${KERNEL_ORACLE_KERNEL_PKG:-$(cat "$CDIR/kernel-pkg" 2>/dev/null || true)}
if [ -z "$KPKG" ]; then
  KPKG=$(kernel_pkg)
  [ -n "$KPKG" ] || { apt_get update || true; KPKG=$(kernel_pkg); }
  [ -n "$KPKG" ] || unavailable "apt-cache knows no kernel package behind linux-image-amd64"
  [ -s "$CDIR/kernel-pkg" ] || echo "$KPKG" > "$CDIR/kernel-pkg"
fi
KEY=$(cat "$0" "$CLIENT" | sha256sum | cut -c1-12)
IMG=$CDIR/nbd-client/$KPKG-$KEY

fetch() {  # fetch PACKAGE: the path of its .deb in the shared debs/ folder, downloaded once
  local f d
  f=$(ls "$CDIR/debs/$1"_*.deb 2>/dev/null | head -1)
  if [ -z "$f" ]; then
    d=$(mktemp -d "$CDIR/debs/.dl.XXXXXX")
    (cd "$d" && { apt_get download "$1" || { apt_get update && apt_get download "$1"; }; }) ||
      { rm -rf "$d"; unavailable "apt-get download $1 failed"; }
    f=$(ls "$d/$1"_*.deb | head -1)
    mv -n "$f" "$CDIR/debs/" && rm -rf "$d"
    f=$(ls "$CDIR/debs/$1"_*.deb | head -1)
  fi
  echo "$f"
}

build() {  # vmlinuz + initrd.cpio: busybox, nbd-client and its libraries, modules, /init
  local W R KDIR order='' m p lib kdeb bdeb
  kdeb=$(fetch "$KPKG") && bdeb=$(fetch busybox-static) || exit 6
  W=$(mktemp -d); R=$W/root
  dpkg-deb -x "$kdeb" "$W/kernel"; dpkg-deb -x "$bdeb" "$W/busybox"
  mkdir -p "$R"/{bin,dev,proc,sys,tmp,job,etc,lib/modules}
  cp "$W/busybox/bin/busybox" "$R/bin/busybox"
  for m in $("$R/bin/busybox" --list); do [ "$m" = busybox ] || ln -s busybox "$R/bin/$m"; done
  cp "$CLIENT" "$R/bin/nbd-client"
  for lib in $(ldd "$CLIENT" | grep -o '/[^ )]*'); do cp -L --parents "$lib" "$R"; done
  KDIR=$(echo "$W"/kernel/lib/modules/*/kernel)
  modfile() { find "$KDIR" -name "$(echo "$1" | sed 's/[-_]/[-_]/g').ko*" | head -1; }
  unpack() { case "$1" in *.xz) xz -dc "$1";; *.zst) zstd -qdc "$1";; *) cat "$1";; esac; }
  need_mod() {  # copies module $1 after what its modinfo depends= names
    local f dep
    case " $order " in *" $1 "*) return 0;; esac
    f=$(modfile "$1"); [ -n "$f" ] || { echo "run-kernel-nbd: module $1 is not in $KPKG" >&2; exit 6; }
    for dep in $(unpack "$f" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -1 | tr , ' '); do need_mod "$dep"; done
    unpack "$f" > "$R/lib/modules/$1.ko"
    order="$order $1"
  }
  # crc32c_generic by hand: ext4 asks the crypto API for crc32c, and the guest has no modprobe
  for m in virtio_pci virtio_net nbd crc32c_generic ext4; do need_mod "$m"; done
  echo "$order" > "$R/etc/modules"
  cat > "$R/init" <<'INIT'
#!/bin/sh
export PATH=/bin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib:/lib64
mount -t devtmpfs dev /dev; mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t tmpfs tmp /tmp
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec </dev/null >/dev/ttyS1 2>&1
for m in $(cat /etc/modules); do
  case $m in nbd) insmod /lib/modules/nbd.ko nbds_max=2;; *) insmod /lib/modules/$m.ko;; esac ||
    echo "KERNEL: insmod $m failed"
done
. /job/params
NBD_DEV=/dev/nbd0 JOB_FILES=/job/files
nic=''; for n in /sys/class/net/*; do [ "${n##*/}" = lo ] || { nic=${n##*/}; break; }; done
ip link set lo up
ip link set "$nic" up && ip addr add 10.0.2.15/24 dev "$nic" && ip route add default via 10.0.2.2
echo "NET: $nic $(ip -4 -o addr show dev "$nic" 2>/dev/null | awk '{print $4}')"
nbd_connect() {  # nbd_connect [extra nbd-client options]
  # shellcheck disable=SC2086
  nbd-client "$NBD_HOST" "$NBD_PORT" "$NBD_DEV" $CLIENT_OPTS "$@" || return
  i=0; while [ "$(cat /sys/block/${NBD_DEV##*/}/size)" = 0 ] && [ $i -lt 50 ]; do usleep 100000; i=$((i+1)); done
  echo "NBD_SIZE: $(blockdev --getsize64 "$NBD_DEV")"
  echo "NBD_BLOCK: $(cat /sys/block/${NBD_DEV##*/}/queue/logical_block_size)"
}
nbd_disconnect() { nbd-client -d "$NBD_DEV"; }
rc=0
if [ "$CONNECT" = 1 ]; then
  if nbd_connect; then echo "NBD_CONNECT: ok"; else echo "NBD_CONNECT: failed rc $?"; rc=2; fi
fi
if [ $rc = 0 ] && [ -s /job/script.sh ]; then
  ( . /job/script.sh ); src=$?
  echo "SCRIPT_RC: $src"; [ $src = 0 ] || rc=3
fi
sync
if [ "$CONNECT" = 1 ] && [ $rc != 2 ]; then
  if nbd_disconnect; then echo "NBD_DISCONNECT: ok"; else echo "NBD_DISCONNECT: failed"; [ $rc != 0 ] || rc=4; fi
fi
dmesg | grep -E 'nbd|Call Trace|BUG|WARNING|I/O error|EXT4-fs' | sed 's/^/KERNEL: /'
echo "GUEST_RC: $rc"
poweroff -f
INIT
  chmod +x "$R/init"
  mkdir "$IMG.tmp$$"
  cp "$(echo "$W"/kernel/boot/vmlinuz-*)" "$IMG.tmp$$/vmlinuz"
  (cd "$R" && find . | cpio -o -H newc --quiet) > "$IMG.tmp$$/initrd.cpio"
  rm -rf "$W"
  mv -T "$IMG.tmp$$" "$IMG" 2>/dev/null || rm -rf "$IMG.tmp$$"  # another run built it first
  for m in "$CDIR/nbd-client/"*; do [ "$m" = "$IMG" ] || case "$m" in *.tmp*) ;; *) rm -rf "$m";; esac; done
}
if [ ! -f "$IMG/initrd.cpio" ]; then
  echo "run-kernel-nbd: building the guest image in $IMG" >&2
  build
fi

T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir -p "$T/job/job/files"
sq() { printf "%s='%s'\n" "$1" "$(printf %s "$2" | sed "s/'/'\\\\''/g")"; }
opts=''; [ -n "$EXPORT" ] && opts="-N $EXPORT"
for o in ${COPTS[@]+"${COPTS[@]}"}; do opts="$opts $o"; done
{ sq NBD_HOST 10.0.2.2; sq NBD_PORT "$PORT"; sq CLIENT_OPTS "$opts"; sq CONNECT "$CONNECT"; } > "$T/job/job/params"
[ -z "$SCRIPT" ] || cp "$SCRIPT" "$T/job/job/script.sh"
for f in ${FILES[@]+"${FILES[@]}"}; do cp "$f" "$T/job/job/files/"; done
(cd "$T/job" && find . | cpio -o -H newc --quiet) | cat "$IMG/initrd.cpio" - > "$T/initrd"

if [ -z "$ACCEL" ]; then  # kvm only with a real kvm_intel/kvm_amd (a kvm_pvm host runs stock kernels badly)
  ACCEL=tcg; [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } && ACCEL=kvm
fi
CPU=max; [ "$ACCEL" = kvm ] && CPU=host
t0=$(date +%s.%N)
set +e
timeout "$TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
  -machine pc,accel="$ACCEL" -cpu "$CPU" -smp 1 -m "$MEM" \
  -kernel "$IMG/vmlinuz" -initrd "$T/initrd" \
  -append "console=ttyS0 $([ "$CONSOLE" = 1 ] || echo quiet) panic=-1 mitigations=off" \
  -nic user,model=virtio-net-pci,ipv6=off \
  -serial "file:$T/console.log" -serial "file:$T/result.log" </dev/null
qrc=$?
set -e
echo "run-kernel-nbd: vm ran $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s ($ACCEL), qemu rc $qrc" >&2
tr -d '\r' < "$T/result.log" > "$T/result.txt" 2>/dev/null || true
grep -v '^GUEST_RC: ' "$T/result.txt" || true
[ "$CONSOLE" = 0 ] || tr -d '\r' < "$T/console.log" >&2
rc=$(sed -n 's/^GUEST_RC: //p' "$T/result.txt" | tail -1)
if [ -z "$rc" ]; then
  echo "run-kernel-nbd: the guest did not finish (qemu rc $qrc); kernel log tail:" >&2
  tr -d '\r' < "$T/console.log" | tail -30 >&2
  exit 5
fi
exit "$rc"
