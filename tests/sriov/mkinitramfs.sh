#!/usr/bin/env bash
# Build the initramfs of the SR-IOV guest test:
#   tests/sriov/mkinitramfs.sh OUT.cpio.gz INIT_SCRIPT BINARY...
# It holds INIT_SCRIPT as /init, guest-lib.sh (which the test guests' /init scripts source) as
# /guest-lib.sh, busybox-static, iproute2's ip (busybox ip has no VF output), the given binaries
# with the shared libraries ldd lists for them, and the kernel modules of Debian's own kernel that
# the test needs (igb, igbvf, vfio-pci and their dependencies, from modules.dep;
# NFV_INITRAMFS_MODULES replaces the list). The kernel version is that of the newest
# /boot/vmlinuz-* unless NFV_GUEST_KVER says otherwise.
set -euo pipefail
out=$1 init=$2
shift 2
kver=${NFV_GUEST_KVER:-$(ls /boot/vmlinuz-* | sed 's|/boot/vmlinuz-||' | sort -V | tail -1)}
mods=/lib/modules/$kver
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,lib,lib64,proc,sys,dev,tmp,etc,mod}
cp /bin/busybox "$tmp/bin/busybox"
for a in sh mount mkdir cat echo ls sleep insmod grep sed awk readlink basename dirname lspci \
	 printf test wc head tail tr cut poweroff reboot dmesg uname true false seq timeout od hexdump; do
	ln -sf busybox "$tmp/bin/$a"
done
copy_with_libs() {
	local f=$1 dst=$2
	cp "$f" "$dst"
	ldd "$f" 2>/dev/null | awk '/=>/ { print $3 } /^\t\/lib/ { print $1 }' | while read -r l; do
		[ -f "$l" ] || continue
		mkdir -p "$tmp$(dirname "$l")"
		cp -n "$l" "$tmp$l"
	done
}
copy_with_libs "$(command -v ip || echo /usr/sbin/ip)" "$tmp/sbin/ip"
for b in "$@"; do copy_with_libs "$b" "$tmp/bin/$(basename "$b")"; done
# Modules in load order (dependencies first), uncompressed or .xz as the kernel ships them.
want=${NFV_INITRAMFS_MODULES:-igb igbvf pci-pf-stub vfio_iommu_type1 vfio-pci}
: > "$tmp/mod/order"
add_mod() {
	local rel deps
	rel=$(awk -F: -v m="/$1.ko" 'index($1, m) && substr($1, length($1) - length(m) + 1) == m { print $1 }' "$mods/modules.dep" | head -1)
	[ -n "$rel" ] || rel=$(awk -F: -v m="/$1.ko.xz" 'index($1, m) { print $1 }' "$mods/modules.dep" | head -1)
	[ -n "$rel" ] || { echo "mkinitramfs: module $1 not in $mods/modules.dep: left out" >&2; return 0; }
	grep -qx "$(basename "$rel")" "$tmp/mod/order" && return 0
	deps=$(awk -F': ' -v r="$rel" '$1 == r { print $2 }' "$mods/modules.dep")
	for d in $deps; do add_mod "$(basename "$d" | sed 's/\.ko.*//')"; done
	case "$rel" in
	*.xz) xz -dc "$mods/$rel" > "$tmp/mod/$(basename "$rel" .xz)"; echo "$(basename "$rel" .xz)" >> "$tmp/mod/order" ;;
	*) cp "$mods/$rel" "$tmp/mod/"; basename "$rel" >> "$tmp/mod/order" ;;
	esac
}
for m in $want; do add_mod "$m"; done
cp "$init" "$tmp/init"
chmod +x "$tmp/init"
cp "$(dirname "$0")/guest-lib.sh" "$tmp/guest-lib.sh"
(cd "$tmp" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
