#!/usr/bin/env bash
# nfvd's VF handling on a real kernel: Debian's kernel under QEMU 10 (TCG, q35, intel-iommu, an igb
# SR-IOV PF), nfvd and nfvctl in the initramfs with a shell stand-in for nfv-vmm (there is no KVM
# in the guest); nfvd-guest-init.sh prints PASS/FAIL lines checked here.
#   tests/sriov/run-nfvd-guest-test.sh NFVD NFVCTL
# Exit 77 (skipped) when QEMU 10 or the kernel is not available; NFV_QEMU10 overrides the QEMU.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
nfvd=$1 nfvctl=$2
sriov_setup
sriov_initramfs "$here/nfvd-guest-init.sh" "$nfvd" "$nfvctl" || exit 1
sriov_boot

# Checks that must have passed (a missing line is a failure too).
checks=(
	nfvd-up nfvd-start-vf nfvd-vf-mac nfvd-vf-vlan nfvd-vf0-vfio nfvd-hostdev-vfio nfvd-live-xml
	nfvd-lease-record nfvd-double-assignment nfvd-restart-adopted nfvd-released-igbvf
	nfvd-vf-settings-restored nfvd-lease-record-removed nfvd-managed-no-refused
)
sriov_verdict NFVD-SRIOV-TEST-DONE "nfvd sriov guest test" "${checks[@]}"
