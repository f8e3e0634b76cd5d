#!/bin/busybox sh
# /init of the dextbench QEMU guest (test/support/qemu/guest.ts builds the initramfs around it).
# It loads the kernel modules listed in /modules/order, mounts the host's / read-only at /host and
# the run's writable folder at /out (both over 9p), runs ONE command from /out/job inside
# `chroot /host`, writes its exit code to /out/exit and powers off. Everything it says on the
# serial console starts with "dextbench-guest: " so the host can follow the phases.
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

say() { echo "dextbench-guest: $*"; }
# The host reads this line as the reason; poweroff -f ends qemu (-no-reboot).
fail() { say "failed: $*"; sync; poweroff -f; }

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"

while read -r module; do
  [ -n "$module" ] || continue
  insmod "/modules/$module.ko" || fail "insmod $module"
done < /modules/order

mount -t configfs configfs /sys/kernel/config || fail "mount configfs"
# msize: 512 KiB messages instead of 8 KiB make reading node_modules over 9p several times faster.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=524288 host /host || fail "mount the host's / over 9p (tag host)"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 out /out || fail "mount the run's folder over 9p (tag out)"

# The chroot gets the guest's own kernel filesystems (not the host's, which 9p would show),
# /run (udevd's state) and the run's folder, writable, at /run/guest. Not on /tmp: the project
# itself may live under the host's /tmp (a CI clone), and it must stay visible.
mount -t proc proc /host/proc || fail "mount /host/proc"
mount -t sysfs sysfs /host/sys || fail "mount /host/sys"
mount -t configfs configfs /host/sys/kernel/config || fail "mount /host/sys/kernel/config"
mount -t devtmpfs devtmpfs /host/dev || fail "mount /host/dev"
mount -t tmpfs tmpfs /host/run || fail "mount /host/run"
mkdir -p /host/run/guest || fail "mkdir /host/run/guest"
mount --bind /out/tmp /host/run/guest || fail "bind /out/tmp on /host/run/guest"

# The job: cwd on the first line, then the argv, one element a line.
{ read -r cwd; set --; while IFS= read -r arg; do set -- "$@" "$arg"; done; } < /out/job
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/run/guest TMPDIR=/run/guest

# node-usb (nusb) hears hotplug only from udevd's netlink group, as on any Linux desktop or CI box.
if [ -s /out/udevd ]; then
  read -r udevd < /out/udevd
  chroot /host "$udevd" --daemon || fail "start $udevd"
fi

say ready
chroot /host /bin/sh -c 'cd "$0" || exit 127; exec "$@"' "$cwd" "$@" > /out/stdout 2> /out/stderr < /dev/null
code=$?
echo "$code" > /out/exit
sync
say "exit $code"
poweroff -f
