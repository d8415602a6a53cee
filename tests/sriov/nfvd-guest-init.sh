#!/bin/sh
# /init of the nfvd SR-IOV guest test (see run-nfvd-guest-test.sh): nfvd with a shell stand-in for
# nfv-vmm (no KVM inside this TCG guest) starts domains with VFs of the emulated igb PF; the checks
# read back what the kernel says (ip link, driver links) and print "PASS name" / "FAIL name: why".
. /guest-lib.sh
for m in $(cat /mod/order); do insmod "/mod/$m" || fail "insmod-$m"; done
echo "kernel $(uname -r)"

pf=
for d in /sys/bus/pci/devices/*; do [ -e "$d/sriov_totalvfs" ] && pf=$(basename "$d") && break; done
ifname=$(ls "/sys/bus/pci/devices/$pf/net" | head -1)
echo 2 > "/sys/bus/pci/devices/$pf/sriov_numvfs"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e "/sys/bus/pci/devices/$pf/virtfn1" ] && break; sleep 1; done
vf0=$(basename "$(readlink "/sys/bus/pci/devices/$pf/virtfn0")")
vf1=$(basename "$(readlink "/sys/bus/pci/devices/$pf/virtfn1")")
/sbin/ip link set "$ifname" up
echo "pf $pf ($ifname) vf0 $vf0 ($(drv "$vf0")) vf1 $vf1 ($(drv "$vf1"))"
before=$(/sbin/ip link show "$ifname" | grep 'vf 0 ')
echo "before: $before"

# the VMM stand-in: creates its control path (nfvd waits for it), then idles until killed; it
# stays "sh /bin/nfv-vmm --domain LIVE.xml ..." so that a restarted nfvd re-adopts it
cat > /bin/nfv-vmm <<'EOT'
#!/bin/sh
for a in "$@"; do [ "$prev" = --control ] && : > "$a"; prev=$a; done
while :; do sleep 1; done
EOT
busybox chmod +x /bin/nfv-vmm
mkdir -p /tmp/st /tmp/run
start_nfvd() {
	nfvd --state-dir /tmp/st --run-dir /tmp/run --vmm /bin/nfv-vmm >> /tmp/nfvd.log 2>&1 &
	nfvd_pid=$!
	for i in $(seq 1 50); do [ -S /tmp/run/nfvd.sock ] && break; sleep 0.2; done
}
start_nfvd
[ -S /tmp/run/nfvd.sock ] && pass nfvd-up || fail "nfvd-up: $(cat /tmp/nfvd.log)"
ctl() { nfvctl -c /tmp/run/nfvd.sock "$@"; }
xaddr() { # PCI address -> <address .../> attributes
	echo "$1" | sed "s/\(....\):\(..\):\(..\)\.\(.\)/domain='0x\1' bus='0x\2' slot='0x\3' function='0x\4'/"
}
dom() { # name, devices
	cat > "/tmp/$1.xml" <<EOX
<domain type='kvm'><name>$1</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type><kernel>/nonexistent.elf</kernel></os>
<devices>$2</devices></domain>
EOX
	ctl define "/tmp/$1.xml" > /dev/null
}
dom a "<interface type='hostdev' managed='yes'><mac address='52:54:00:aa:bb:10'/><source><address type='pci' $(xaddr "$vf0")/></source><vlan><tag id='42'/></vlan></interface><hostdev mode='subsystem' type='pci' managed='yes'><source><address $(xaddr "$vf1")/></source></hostdev>"
ctl start a > /tmp/out 2>&1 && pass nfvd-start-vf || fail "nfvd-start-vf: $(cat /tmp/out) $(tail -5 /tmp/nfvd.log)"
vfl=$(/sbin/ip link show "$ifname" | grep 'vf 0 ')
echo "started: $vfl"
case "$vfl" in *"52:54:00:aa:bb:10"*) pass nfvd-vf-mac ;; *) fail "nfvd-vf-mac: $vfl" ;; esac
case "$vfl" in *"vlan 42"*) pass nfvd-vf-vlan ;; *) fail "nfvd-vf-vlan: $vfl" ;; esac
[ "$(drv "$vf0")" = vfio-pci ] && pass nfvd-vf0-vfio || fail "nfvd-vf0-vfio: $(drv "$vf0")"
[ "$(drv "$vf1")" = vfio-pci ] && pass nfvd-hostdev-vfio || fail "nfvd-hostdev-vfio: $(drv "$vf1")"
grep -q "function='0x0'" /tmp/run/a.xml && pass nfvd-live-xml || fail nfvd-live-xml
[ -s /tmp/st/runtime/a.vf.json ] && pass nfvd-lease-record || fail nfvd-lease-record

dom b "<hostdev mode='subsystem' type='pci' managed='yes'><source><address $(xaddr "$vf0")/></source></hostdev>"
ctl start b > /tmp/out 2>&1
grep -q "already assigned to running domain 'a'" /tmp/out && pass nfvd-double-assignment || fail "nfvd-double-assignment: $(cat /tmp/out)"

# nfvd restarts while the domain runs: the new nfvd adopts it and releases the leases it reads back
kill "$nfvd_pid"; wait "$nfvd_pid"
start_nfvd
ctl dominfo a > /tmp/out 2>&1
grep -q 'State:.*running' /tmp/out && pass nfvd-restart-adopted || fail "nfvd-restart-adopted: $(cat /tmp/out)"
ctl destroy a > /tmp/out 2>&1 || fail "destroy: $(cat /tmp/out)"
for i in 1 2 3 4 5; do [ "$(drv "$vf0")" = igbvf ] && [ "$(drv "$vf1")" = igbvf ] && break; sleep 1; done
[ "$(drv "$vf0")" = igbvf ] && [ "$(drv "$vf1")" = igbvf ] && pass nfvd-released-igbvf || fail "nfvd-released-igbvf: $(drv "$vf0") $(drv "$vf1")"
after=$(/sbin/ip link show "$ifname" | grep 'vf 0 ')
echo "after: $after"
[ "$after" = "$before" ] && pass nfvd-vf-settings-restored || fail "nfvd-vf-settings-restored: $after"
[ ! -e /tmp/st/runtime/a.vf.json ] && pass nfvd-lease-record-removed || fail nfvd-lease-record-removed

dom c "<hostdev mode='subsystem' type='pci' managed='no'><source><address $(xaddr "$vf1")/></source></hostdev>"
ctl start c > /tmp/out 2>&1
grep -q "is not bound to vfio-pci" /tmp/out && pass nfvd-managed-no-refused || fail "nfvd-managed-no-refused: $(cat /tmp/out)"
echo "--- nfvd log"; cat /tmp/nfvd.log
echo NFVD-SRIOV-TEST-DONE
poweroff -f
