#!/usr/bin/env bash
# Host half of the SR-IOV guest test: boots Debian's own kernel under QEMU 10 (TCG, q35,
# intel-iommu, an igb SR-IOV PF behind a PCIe root port) with an initramfs holding nfv-sriov,
# sriov-guest-probe and guest-init.sh, and checks the PASS/FAIL lines the guest prints.
#   tests/sriov/run-guest-test.sh NFV_SRIOV SRIOV_GUEST_PROBE
# Exit 77 (skipped) when QEMU 10 or the kernel is not available; NFV_QEMU10 overrides the QEMU.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
nfv_sriov=$1 probe=$2
sriov_setup
sriov_initramfs "$here/guest-init.sh" "$nfv_sriov" "$probe" || exit 1
echo "qemu: $("$qemu" --version | head -1), kernel $kernel"
sriov_boot

# Checks that must have passed (a missing line is a failure too).
checks=(
	pf-discovered pf-sriov-cap numvfs-3 vfs-appear vf-rid-offset-stride numvfs-change-2
	vf-config-mac vf-config-vlan vf-config-spoofchk vf-config-trust vf-config-rate ip-vf-mac
	ip-vf-vlan ip-vf-spoofchk ip-vf-trust ip-vf-rate vf-query group-not-viable-with-igbvf
	vfio-pci-missing-refused bind-vfio bound-vfio-pci dev-vfio-group group-viable
	bind-again-busy numvfs-busy vfio-open vfio-reopen vfio-config vfio-bar0-info
	vfio-bar0-mmap-read vfio-dma-map vfio-msix-enable vfio-msix-disable vfio-reset
	vmm-vfio-pci-create vmm-vfio-pci-ids vmm-vfio-pci-bar-trap vmm-vfio-pci-msix-enable
	vmm-vfio-pci-msix-interrupt vmm-vfio-pci-destroy unbind-vfio igbvf-restored override-cleared
	shared-group-refused vfio-open-not-viable lease-prepare lease-vf-settings lease-driver
	lease-vfio-open lease-busy lease-release lease-driver-restored lease-settings-restored
	numvfs-0 vfs-removed not-sriov
)
sriov_verdict SRIOV-TEST-DONE "sriov guest test" "${checks[@]}"
