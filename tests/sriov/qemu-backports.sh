#!/usr/bin/env bash
# Provide QEMU 10 (bookworm-backports), whose 'igb' model is an SR-IOV capable Intel 82576, in a
# private prefix, without touching the system's apt configuration or its QEMU 7.2.
#
#   tests/sriov/qemu-backports.sh [PREFIX]     prints the path of qemu-system-x86_64 on success
#
# The backports entry is derived from the machine's own Debian source entry (same URIs, suite
# bookworm-backports); apt runs against a private state directory, the packages are downloaded
# with 'apt-get download' and unpacked with 'dpkg -x' into PREFIX (default
# ${XDG_CACHE_HOME:-~/.cache}/nfvisor/qemu-bpo). A wrapper PREFIX/bin/qemu sets LD_LIBRARY_PATH
# and the firmware path. Idempotent: an existing working prefix is reused.
set -euo pipefail
prefix=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/nfvisor/qemu-bpo}
suite=bookworm-backports
wrapper=$prefix/bin/qemu

if [ -x "$wrapper" ] && "$wrapper" -device help 2>/dev/null | grep -q '"igb"'; then
	echo "$wrapper"
	exit 0
fi
mkdir -p "$prefix"/{apt/lists/partial,apt/cache/archives/partial,debs,root,bin}

# The machine's Debian archive URI and keyring: deb822 first, then one-line sources.list.
uri= keyring=
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	u=$(awk '/^URIs:/ { print $2; exit }' "$f")
	s=$(awk '/^Suites:/ { $1 = ""; print; exit }' "$f")
	case " $s " in *" bookworm "*) uri=$u
		keyring=$(awk '/^Signed-By:/ { print $2; exit }' "$f"); break ;; esac
done
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
	uri=$(awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' /etc/apt/sources.list)
fi
if [ -z "$uri" ]; then
	echo "qemu-backports: no Debian bookworm source entry found in /etc/apt" >&2
	exit 1
fi
keyring=${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}

cat > "$prefix/apt/sources.list" <<EOT
deb [signed-by=$keyring] $uri bookworm main
deb [signed-by=$keyring] $uri $suite main
EOT
aptopts=(-o Dir::Etc::SourceList="$prefix/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	 -o Dir::State::Lists="$prefix/apt/lists" -o Dir::Cache="$prefix/apt/cache"
	 -o Dir::State::Status=/var/lib/dpkg/status -o Debug::NoLocking=1 -q
	 -o Acquire::http::Timeout=20 -o Acquire::https::Timeout=20 -o Acquire::Retries=1)
apt-get "${aptopts[@]}" update >&2

# What a system install would pull from backports: every package apt would take from the suite
# (qemu-system-x86 and any libraries it needs newer than bookworm's). Only those are unpacked into
# the prefix; the rest come from the host, as they would for a system install.
plan=$(apt-get "${aptopts[@]}" -s -t "$suite" install --no-install-recommends qemu-system-x86)
# (apt labels the suite by its archive name, e.g. "Debian Backports:oldstable-backports".)
pkgs=$(awk '$1 == "Inst" && /Backports/ { print $2 }' <<<"$plan" | tr '\n' ' ')
missing=$(awk '$1 == "Inst" && !/Backports/ { print $2 }' <<<"$plan" | tr '\n' ' ')
replaced=$(awk '$1 == "Inst" && $3 ~ /^\[/ { print $2 }' <<<"$plan" | tr '\n' ' ')
echo "qemu-backports: from $suite: $pkgs" >&2
echo "qemu-backports: also from bookworm: $missing" >&2
# A system install would upgrade these (the system's QEMU 7.2): hence the private prefix.
echo "qemu-backports: a system install would replace: $replaced" >&2
[ -n "$pkgs" ] || { echo "qemu-backports: apt found no qemu-system-x86 in $suite" >&2; exit 1; }
cd "$prefix/debs"
chmod 755 "$prefix/debs" "$prefix/apt/cache/archives/partial" 2>/dev/null || true
# shellcheck disable=SC2086
apt-get "${aptopts[@]}" -t "$suite" download $pkgs $missing >&2
for d in ./*.deb; do dpkg -x "$d" "$prefix/root"; done

libs=$(find "$prefix/root" -name '*.so*' -printf '%h\n' | sort -u | tr '\n' ':')
cat > "$wrapper" <<EOT
#!/bin/sh
export LD_LIBRARY_PATH="${libs}\${LD_LIBRARY_PATH:-}"
export QEMU_MODULE_DIR="$prefix/root/usr/lib/x86_64-linux-gnu/qemu"
exec "$prefix/root/usr/bin/qemu-system-x86_64" -L "$prefix/root/usr/share/qemu" -L "$prefix/root/usr/share/seabios" "\$@"
EOT
chmod +x "$wrapper"
"$wrapper" -device help 2>/dev/null | grep -q '"igb"' || { echo "qemu-backports: $wrapper has no igb device" >&2; exit 1; }
echo "$wrapper"
