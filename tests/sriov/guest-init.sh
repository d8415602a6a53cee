#!/bin/sh
# /init of the SR-IOV test guest (see run-guest-test.sh). Drives nfv-sriov and sriov-guest-probe
# against the emulated igb PF and reports "PASS name" / "FAIL name: why" lines on the console.
. /guest-lib.sh
# NIC drivers first: vfio-pci is loaded later, after checking that its absence is reported.
for m in $(cat /mod/order); do case $m in vfio*|irqbypass*|mdev*) ;; *) insmod "/mod/$m" || fail "insmod-$m" ;; esac; done
echo "kernel $(uname -r), cmdline $(cat /proc/cmdline)"

nfv-sriov list > /tmp/list 2>&1; cat /tmp/list
pf=$(sed -n 's/^pf=\([^ ]*\) .*/\1/p' /tmp/list | head -1)
grep -q "vendor=8086 device=10c9 driver=igb" /tmp/list && pass "pf-discovered $pf" || fail "pf-discovered: $(cat /tmp/list)"
grep -q "total_vfs=8 num_vfs=0 vf_device=10ca vf_offset=128 vf_stride=2" /tmp/list && pass pf-sriov-cap || fail "pf-sriov-cap"
ifname=$(sed -n 's/^pf=.* ifname=\([^ ]*\) .*/\1/p' /tmp/list | head -1)

check numvfs-3 nfv-sriov numvfs "$pf" 3
nfv-sriov list > /tmp/list 2>&1; cat /tmp/list
[ "$(grep -c 'vf=.*vendor=8086 device=10ca driver=igbvf' /tmp/list)" = 3 ] && pass vfs-appear || fail "vfs-appear"
grep -q "vf=1 addr=0000:01:10.2" /tmp/list && pass vf-rid-offset-stride || fail vf-rid-offset-stride
check numvfs-change-2 nfv-sriov numvfs "$pf" 2
[ "$(ls -d /sys/bus/pci/devices/$pf/virtfn* | wc -l)" = 2 ] && pass numvfs-2-links || fail numvfs-2-links
check numvfs-over-total sh -c "! nfv-sriov numvfs $pf 8"

# VF settings through our rtnetlink code, read back with iproute2 (igb rate limits need link up).
/sbin/ip link set "$ifname" up
for i in 1 2 3 4 5 6 7 8 9 10; do grep -q 1 "/sys/class/net/$ifname/carrier" 2>/dev/null && break; sleep 1; done
check vf-config-mac nfv-sriov config "$pf" 0 mac=52:54:00:aa:bb:01
check vf-config-vlan nfv-sriov config "$pf" 0 vlan=100 qos=2
check vf-config-spoofchk nfv-sriov config "$pf" 0 spoofchk=off
check vf-config-trust nfv-sriov config "$pf" 0 trust=on
check vf-config-rate nfv-sriov config "$pf" 0 max_tx_rate=100
nfv-sriov config "$pf" 0 state=disable > /tmp/out 2>&1; echo "link-state (igb has no ndo_set_vf_link_state): $(cat /tmp/out)"
check vf-config-bad-vlan sh -c "! nfv-sriov config $pf 0 vlan=4096"
/sbin/ip link show "$ifname" > /tmp/ipl 2>&1; cat /tmp/ipl
vf0=$(grep 'vf 0 ' /tmp/ipl)
case "$vf0" in *"52:54:00:aa:bb:01"*) pass ip-vf-mac ;; *) fail "ip-vf-mac: $vf0" ;; esac
case "$vf0" in *"vlan 100, qos 2"*) pass ip-vf-vlan ;; *) fail "ip-vf-vlan: $vf0" ;; esac
case "$vf0" in *"spoof checking off"*) pass ip-vf-spoofchk ;; *) fail "ip-vf-spoofchk: $vf0" ;; esac
case "$vf0" in *"trust on"*) pass ip-vf-trust ;; *) fail "ip-vf-trust: $vf0" ;; esac
case "$vf0" in *"max_tx_rate 100Mbps"*) pass ip-vf-rate ;; *) fail "ip-vf-rate: $vf0" ;; esac
nfv-sriov show "$pf" 0 > /tmp/show 2>&1; cat /tmp/show
grep -q "mac=52:54:00:aa:bb:01 vlan=100 qos=2 spoofchk=0 trust=1 .*max_tx_rate=100" /tmp/show && pass vf-query || fail "vf-query: $(cat /tmp/show)"

# vfio-pci binding, IOMMU group checks, VFIO access.
vf=0000:01:10.0
nfv-sriov bind $vf > /tmp/out 2>&1
if grep -q "vfio-pci driver is not loaded" /tmp/out && [ "$(drv $vf)" = igbvf ]; then
	pass vfio-pci-missing-refused
else
	fail "vfio-pci-missing-refused: $(cat /tmp/out)"
fi
for m in $(cat /mod/order); do case $m in vfio*|irqbypass*|mdev*) insmod "/mod/$m" || fail "insmod-$m" ;; esac; done
g=$(basename "$(readlink /sys/bus/pci/devices/$vf/iommu_group)")
nfv-sriov group $vf > /tmp/out 2>&1; cat /tmp/out
grep -q "iommu_group=$g viable=no" /tmp/out && pass group-not-viable-with-igbvf || fail group-not-viable-with-igbvf
check bind-vfio nfv-sriov bind $vf
[ "$(drv $vf)" = vfio-pci ] && pass bound-vfio-pci || fail bound-vfio-pci
[ -c /dev/vfio/$g ] && pass dev-vfio-group || fail "dev-vfio-group: $(ls /dev/vfio)"
check group-viable nfv-sriov group $vf
check bind-again-busy sh -c "! nfv-sriov bind $vf"
check numvfs-busy sh -c "! nfv-sriov numvfs $pf 0"
sriov-guest-probe vfio $vf
check unbind-vfio nfv-sriov unbind $vf igbvf
[ "$(drv $vf)" = igbvf ] && pass igbvf-restored || fail igbvf-restored
[ -z "$(cat /sys/bus/pci/devices/$vf/driver_override)" ] || [ "$(cat /sys/bus/pci/devices/$vf/driver_override)" = "(null)" ] && pass override-cleared || fail override-cleared

# A shared IOMMU group: q35's ICH9 functions 00:1f.x share one; pci-pf-stub (a host driver, unlike
# pci-stub which VFIO allows in a group) holds 1f.0.
echo pci-pf-stub > /sys/bus/pci/devices/0000:00:1f.0/driver_override
echo 0000:00:1f.0 > /sys/bus/pci/drivers_probe
nfv-sriov bind 0000:00:1f.3 > /tmp/out 2>&1
if grep -q "not viable: 0000:00:1f.0 is bound to host driver pci-pf-stub" /tmp/out; then
	pass shared-group-refused
else
	fail "shared-group-refused: $(cat /tmp/out)"
fi
# Bound to vfio-pci behind our back anyway: our VFIO code refuses the non-viable group.
echo vfio-pci > /sys/bus/pci/devices/0000:00:1f.3/driver_override
echo 0000:00:1f.3 > /sys/bus/pci/drivers_probe
sriov-guest-probe not-viable 0000:00:1f.3

# The library flow nfvd uses: prepare (MAC, VLAN) -> VFIO -> release, on VF 1.
sriov-guest-probe lease "$pf" 1 52:54:00:aa:bb:02

check numvfs-0 nfv-sriov numvfs "$pf" 0
[ -z "$(ls -d /sys/bus/pci/devices/$pf/virtfn* 2>/dev/null)" ] && pass vfs-removed || fail vfs-removed
# A device without SR-IOV (the root port) is refused clearly.
check not-sriov sh -c "! nfv-sriov numvfs 0000:00:02.0 1"
echo SRIOV-TEST-DONE
poweroff -f
