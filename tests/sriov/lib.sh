# shellcheck shell=bash
# The host half shared by the SR-IOV guest tests (run-guest-test.sh, run-nfvd-guest-test.sh):
# Debian's own kernel under QEMU 10 (TCG, q35, intel-iommu, an igb SR-IOV PF behind a PCIe root
# port) with an initramfs made by mkinitramfs.sh; the guest's /init prints "PASS name" and
# "FAIL name: why" lines and a done marker on the console, which is checked here.
# Sourced by a script that set $here to this directory. NFV_QEMU10 overrides the QEMU,
# NFV_GUEST_KERNEL the kernel, NFV_SRIOV_TIMEOUT the time limit of the guest (600 s).

# sriov_setup: sets $start, $work (a temporary directory removed on exit), $qemu and $kernel,
# exports NFV_GUEST_KVER; exits 77 (skipped, saying why) when QEMU 10, a readable kernel or
# busybox-static is missing.
sriov_setup() {
	start=$(date +%s)
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT

	qemu=${NFV_QEMU10:-}
	if [ -z "$qemu" ]; then
		qemu=$("$here/qemu-backports.sh" 2> "$work/qemu-setup.log") || {
			sed 's/^/  /' "$work/qemu-setup.log"
			echo "SKIP: QEMU 10 with the igb SR-IOV model is not available"
			exit 77
		}
	fi
	kernel=${NFV_GUEST_KERNEL:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)}
	[ -r "$kernel" ] || { echo "SKIP: no readable /boot/vmlinuz-* (linux-image-amd64)"; exit 77; }
	export NFV_GUEST_KVER=${kernel#/boot/vmlinuz-}
	[ -x /bin/busybox ] || { echo "SKIP: busybox-static missing"; exit 77; }
}

# sriov_initramfs INIT BINARY...: $work/initrd.gz with INIT as /init and the binaries in /bin.
sriov_initramfs() {
	"$here/mkinitramfs.sh" "$work/initrd.gz" "$@"
}

# sriov_boot: boots the guest until it powers off (or the time limit); the console goes to
# stdout and to $work/console.log. Sets $end.
sriov_boot() {
	timeout "${NFV_SRIOV_TIMEOUT:-600}" "$qemu" -M q35 -accel tcg -m 768 -smp 1 -nographic -vga none \
		-no-reboot -nodefaults -serial stdio \
		-device intel-iommu \
		-device pcie-root-port,id=rp1,chassis=1,addr=0x2 \
		-netdev user,id=n0,restrict=on -device igb,netdev=n0,bus=rp1 \
		-kernel "$kernel" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 intel_iommu=on panic=-1 quiet" < /dev/null 2>&1 |
		tr -d '\r' | grep -v 'failed to open module\|Only modules from the same build' | tee "$work/console.log"
	end=$(date +%s)
}

# sriov_verdict MARKER NAME CHECK...: the guest's verdict from its console: it printed the line
# MARKER, no FAIL line, and a PASS line for every CHECK (a missing one is a failure too). Prints
# what failed and a summary naming the test NAME; returns 0 or 1.
sriov_verdict() {
	local marker=$1 name=$2 rc=0 c
	shift 2
	grep -q "^$marker" "$work/console.log" || { echo "FAILED: the guest did not finish"; rc=1; }
	if grep -q '^FAIL' "$work/console.log"; then
		echo "FAILED checks:"
		grep '^FAIL' "$work/console.log"
		rc=1
	fi
	for c in "$@"; do
		grep -q "^PASS $c\b" "$work/console.log" || { echo "MISSING: PASS $c"; rc=1; }
	done
	echo "$name: $(grep -c '^PASS' "$work/console.log") checks passed, $((end - start)) s"
	return $rc
}
