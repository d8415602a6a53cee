#!/usr/bin/env bash
# nfvd's VF handling on a real kernel: Debian's kernel under QEMU 10 (TCG, q35, intel-iommu, an igb
# SR-IOV PF), nfvd and nfvctl in the initramfs with a shell stand-in for nfv-vmm (there is no KVM
# in the guest); nfvd-guest-init.sh prints PASS/FAIL lines checked here.
#   tests/sriov/run-nfvd-guest-test.sh NFVD NFVCTL
# Exit 77 (skipped) when QEMU 10 or the kernel is not available; NFV_QEMU10 overrides the QEMU.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nfvd=$1 nfvctl=$2
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

"$here/mkinitramfs.sh" "$work/initrd.gz" "$here/nfvd-guest-init.sh" "$nfvd" "$nfvctl" || exit 1
timeout "${NFV_SRIOV_TIMEOUT:-600}" "$qemu" -M q35 -accel tcg -m 768 -smp 1 -nographic -vga none \
	-no-reboot -nodefaults -serial stdio \
	-device intel-iommu \
	-device pcie-root-port,id=rp1,chassis=1,addr=0x2 \
	-netdev user,id=n0,restrict=on -device igb,netdev=n0,bus=rp1 \
	-kernel "$kernel" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 intel_iommu=on panic=-1 quiet" < /dev/null 2>&1 |
	tr -d '\r' | grep -v 'failed to open module\|Only modules from the same build' | tee "$work/console.log"
end=$(date +%s)

rc=0
grep -q '^NFVD-SRIOV-TEST-DONE' "$work/console.log" || { echo "FAILED: the guest did not finish"; rc=1; }
if grep -q '^FAIL' "$work/console.log"; then
	echo "FAILED checks:"
	grep '^FAIL' "$work/console.log"
	rc=1
fi
for c in nfvd-up nfvd-start-vf nfvd-vf-mac nfvd-vf-vlan nfvd-vf0-vfio nfvd-hostdev-vfio nfvd-live-xml \
	 nfvd-lease-record nfvd-double-assignment nfvd-restart-adopted nfvd-released-igbvf nfvd-vf-settings-restored \
	 nfvd-lease-record-removed nfvd-managed-no-refused; do
	grep -q "^PASS $c\b" "$work/console.log" || { echo "MISSING: PASS $c"; rc=1; }
done
echo "nfvd sriov guest test: $(grep -c '^PASS' "$work/console.log") checks passed, $((end - start)) s"
exit $rc
