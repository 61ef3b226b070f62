# KernelNbdClientTest's guest side, sourced by run-kernel-nbd.sh's /init with /dev/nbd0 connected to
# `jdmcache serve` (a 64 MiB export). The host wrote random data to [16 MiB, 40 MiB) and put w1.bin (8 MiB),
# w2.bin (1 MiB), u1.bin, u2.bin and u3.bin (odd lengths) in $JOB_FILES. Prints md5 sums for the host
# (md5, not sha256: it costs half as much under TCG).
set -e
F=$JOB_FILES MIB=1048576
dsum() {  # dsum FIRST_MIB MIBS: md5 of that range read with O_DIRECT (not from the page cache)
  dd if="$NBD_DEV" bs=1M skip=$1 count=$2 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1
}
echo "READ_HOST $(dsum 16 24)"
# O_DIRECT writes: 8 MiB at 44 MiB in 1 MiB requests, 1 MiB over the host's data at 38 MiB in 64 KiB requests
dd if=$F/w1.bin of="$NBD_DEV" bs=1M seek=44 oflag=direct conv=notrunc 2>/dev/null
dd if=$F/w2.bin of="$NBD_DEV" bs=64k seek=$((38 * 16)) oflag=direct conv=notrunc 2>/dev/null
# buffered writes at odd offsets and lengths: the kernel reads the rest of each page from the server first
put() { dd if=$F/$1 of="$NBD_DEV" bs=$(stat -c %s $F/$1) count=1 seek=$2 oflag=seek_bytes conv=notrunc 2>/dev/null; }
put u1.bin $((52 * MIB + 12345))
put u2.bin $((17 * MIB + 3))
put u3.bin $((64 * MIB - 5000))
sync
blockdev --flushbufs "$NBD_DEV"
# TRIM of [60 MiB, 62 MiB) (the kernel's nbd sends NBD_CMD_TRIM; NBD leaves the content undefined)
blkdiscard -o $((60 * MIB)) -l $((2 * MIB)) "$NBD_DEV"
# again with two connections (CAN_MULTI_CONN) and 4 KiB logical blocks
nbd_disconnect
nbd_connect -C 2 -b 4096
# ext2 (busybox mke2fs, mounted by the ext4 driver) in the first 16 MiB
mke2fs -F -b 4096 -L knbd "$NBD_DEV" 16384 >/dev/null
mkdir -p /mnt
mount -t ext2 "$NBD_DEV" /mnt
cp $F/w1.bin /mnt/w1.bin
mkdir /mnt/dir
for i in 1 2 3 4 5 6 7 8; do echo "small file $i" > /mnt/dir/f$i; done
umount /mnt
mount -t ext2 -o ro "$NBD_DEV" /mnt
echo "FS_W1 $(md5sum < /mnt/w1.bin | cut -d' ' -f1) $(cat /mnt/dir/f8)"
umount /mnt
sync
blockdev --flushbufs "$NBD_DEV"
echo "READ_ALL $(dsum 0 64)"
