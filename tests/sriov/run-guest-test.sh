#!/usr/bin/env bash
# Host half of the SR-IOV guest test: boots Debian's own kernel under QEMU 10 (TCG, q35,
# intel-iommu, an igb SR-IOV PF behind a PCIe root port) with an initramfs holding nfv-sriov,
# sriov-guest-probe and guest-init.sh, and checks the PASS/FAIL lines the guest prints.
#   tests/sriov/run-guest-test.sh NFV_SRIOV SRIOV_GUEST_PROBE
# Exit 77 (skipped) when QEMU 10 or the kernel is not available; NFV_QEMU10 overrides the QEMU.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nfv_sriov=$1 probe=$2
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

"$here/mkinitramfs.sh" "$work/initrd.gz" "$here/guest-init.sh" "$nfv_sriov" "$probe" || exit 1
echo "qemu: $("$qemu" --version | head -1), kernel $kernel"
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
grep -q '^SRIOV-TEST-DONE' "$work/console.log" || { echo "FAILED: the guest did not finish"; rc=1; }
if grep -q '^FAIL' "$work/console.log"; then
	echo "FAILED checks:"
	grep '^FAIL' "$work/console.log"
	rc=1
fi
# Checks that must have passed (a missing line is a failure too).
for c in pf-discovered pf-sriov-cap numvfs-3 vfs-appear vf-rid-offset-stride numvfs-change-2 \
	 vf-config-mac vf-config-vlan vf-config-spoofchk vf-config-trust vf-config-rate ip-vf-mac \
	 ip-vf-vlan ip-vf-spoofchk ip-vf-trust ip-vf-rate vf-query group-not-viable-with-igbvf vfio-pci-missing-refused \
	 bind-vfio bound-vfio-pci dev-vfio-group group-viable bind-again-busy numvfs-busy \
	 vfio-open vfio-reopen vfio-config vfio-bar0-info vfio-bar0-mmap-read vfio-dma-map vfio-msix-enable \
	 vfio-msix-disable vfio-reset vmm-vfio-pci-create vmm-vfio-pci-ids vmm-vfio-pci-bar-trap \
	 vmm-vfio-pci-msix-enable vmm-vfio-pci-msix-interrupt vmm-vfio-pci-destroy unbind-vfio igbvf-restored override-cleared \
	 shared-group-refused vfio-open-not-viable lease-prepare lease-vf-settings lease-driver lease-vfio-open lease-busy lease-release \
	 lease-driver-restored lease-settings-restored numvfs-0 vfs-removed not-sriov; do
	grep -q "^PASS $c\b" "$work/console.log" || { echo "MISSING: PASS $c"; rc=1; }
done
echo "sriov guest test: $(grep -c '^PASS' "$work/console.log") checks passed, $((end - start)) s"
exit $rc
