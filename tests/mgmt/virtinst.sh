#!/bin/sh
# Domain XML written by virt-install (Debian package virtinst) must parse, with desktop devices
# dropped. Without a libvirt daemon virt-install needs the built-in test driver, which only offers
# domain type 'test'; that one attribute is rewritten to 'kvm', everything else is used unmodified.
# Usage: virtinst.sh TEST_DOMXML OUTDIR
set -eu
tool=$1
out=$2
if ! command -v virt-install >/dev/null 2>&1; then
	echo "virt-install not installed (package virtinst): skipped"
	exit 77
fi
mkdir -p "$out"
common="--connect test:///default --print-xml --noautoconsole --graphics none --osinfo linux2022"
n=0
gen() {
	n=$((n + 1))
	f="$out/virtinst-$n.xml"
	# shellcheck disable=SC2086
	virt-install $common "$@" > "$f.raw"
	sed -e '1s/<domain type="test">/<domain type="kvm">/' "$f.raw" > "$f"
	"$tool" parse --drop "$f"
}
gen --name t --memory 512 --vcpus 2 --boot kernel=/x,initrd=/y \
	--network vhostuser,source_type=unix,source_path=/tmp/s,source_mode=client,model=virtio \
	--disk none
gen --name t2 --memory 1024 --vcpus 2,cpuset=0-1 --boot kernel=/x,kernel_args=console=ttyS0 \
	--memorybacking hugepages=on,access.mode=shared \
	--cputune vcpupin0.vcpu=0,vcpupin0.cpuset=0,vcpupin1.vcpu=1,vcpupin1.cpuset=1 \
	--network vhostuser,source_type=unix,source_path=/tmp/s2,source_mode=server,model=virtio \
	--serial pty --disk none
gen --name t3 --memory 256 --vcpus 1 --boot kernel=/x \
	--network bridge=nfvbr0,model=ne2k_pci,mac=52:54:00:01:02:03 --disk none
gen --name t4 --memory 256 --vcpus 1 --boot kernel=/x --network none \
	--disk path=$out/disk.img,size=0,format=raw,bus=virtio,cache=none,io=native
echo "ok: $n virt-install documents parsed"
