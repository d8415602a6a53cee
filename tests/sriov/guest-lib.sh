# The start shared by the /init scripts of the SR-IOV test guests (guest-init.sh,
# nfvd-guest-init.sh); mkinitramfs.sh puts it in the initramfs as /guest-lib.sh. Sourced by
# busybox sh: mounts /proc, /sys and /dev, sends stderr to the console and defines how a check
# reports.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec 2>&1
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }
check() { # name, then a command whose success is the check
	n=$1; shift
	if "$@" > /tmp/out 2>&1; then pass "$n"; else fail "$n: $(tr '\n' ' ' < /tmp/out)"; fi
}
drv() { # the driver PCI device $1 is bound to
	basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
}
