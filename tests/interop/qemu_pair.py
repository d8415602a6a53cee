#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""qemu-pair: two QEMU guests running Debian's Linux kernel on nfv-switch.

Each guest is qemu-system-x86_64 (TCG) with a virtio-net-pci NIC whose backend is a vhost-user
socket of nfv-switch: the switch port is the server, QEMU's chardev the client with reconnect=1.
The guests boot the host's /boot/vmlinuz-* with a busybox initramfs built here (cpio newc, written
by this script), load virtio_net and its dependencies from /lib/modules when the kernel has them as
modules, take 10.0.0.1/24 and 10.0.0.2/24 and are then driven through their serial consoles:

  ping       A pings B, B pings A (ARP + ICMP through Linux's virtio-net driver and QEMU's
             vhost-user frontend: mergeable RX buffers, event index, whatever they negotiate)
  tcp        a 2 MiB TCP stream A -> B with busybox nc; both sides' md5sums must match
  restart    nfv-switch is stopped while A pings B every 0.2 s and started again on the same
             socket paths; QEMU reconnects and replays its rings; the pings must resume, and a
             second TCP stream must get through

Exit status 0 on success, 1 on failure, 77 (skip) when QEMU, a kernel, busybox-static or the
switch is missing. Every process started here is killed on the way out.

usage: qemu_pair.py --switch build/net/softswitch/nfv-switch [--kernel /boot/vmlinuz-X]
                    [--qemu qemu-system-x86_64] [--keep DIR] [--timeout 240]
"""

import argparse
import glob
import gzip
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import nfvtest as nt  # noqa: E402

MACS = ('52:54:00:1a:00:01', '52:54:00:1a:00:02')
IPS = ('10.0.0.1', '10.0.0.2')
STATS_REQ = '{"cmd":"stats"}'
procs = []
deadline = 0.0


def log(m):
    print(f'{time.strftime("%H:%M:%S")} {m}', flush=True)


class Fail(Exception):
    pass


def left(limit):
    """Seconds we may still wait: @limit, but never past the whole test's deadline."""
    r = min(limit, deadline - time.time())
    if r <= 0:
        raise Fail('overall time limit reached')
    return r


# ---- initramfs (cpio "newc", as the kernel's usr/gen_init_cpio writes it) ----

class Cpio:
    def __init__(self):
        self.buf = bytearray()
        self.ino = 1

    def _entry(self, name, mode, data=b'', rdev=(0, 0)):
        name_b = name.encode() + b'\0'
        hdr = '070701' + ''.join(f'{v:08x}' for v in (
            self.ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0,
            rdev[0], rdev[1], len(name_b), 0))
        self.ino += 1
        self.buf += hdr.encode() + name_b
        self.buf += b'\0' * (-len(self.buf) % 4)
        self.buf += data
        self.buf += b'\0' * (-len(self.buf) % 4)

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, perm=0o644):
        self._entry(name, stat.S_IFREG | perm, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor):
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self):
        self._entry('TRAILER!!!', 0)
        self.buf += b'\0' * (-len(self.buf) % 512)
        return bytes(self.buf)


INIT = r'''#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in $(cat /modules.order); do
	insmod /lib/modules/$m || echo "insmod $m failed"
done
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
ip link set lo up
ip link set eth0 up
ip addr add $nfvip/24 dev eth0
echo "interop guest $nfvip: $(cat /sys/class/net/eth0/address) up"
echo INTEROP-READY
# The shell is not PID 1: if it ever ends, the kernel must not panic; say so and start another.
while true; do /bin/sh; echo "interop guest: shell exited ($?)"; done
'''


def module_chain(kver, name):
    """Module files (relative to /lib/modules/KVER) that @name needs, dependencies first; [] if
    the kernel has it built in or does not know it."""
    base = f'/lib/modules/{kver}'
    deps = {}
    try:
        with open(os.path.join(base, 'modules.dep')) as f:
            for line in f:
                k, _, v = line.partition(':')
                deps[k] = v.split()
    except OSError:
        return []
    want = [k for k in deps if re.search(rf'/{name}\.ko(\.[gx]z|\.zst)?$', k)]
    order = []

    def visit(k):
        if k in order:
            return
        for d in deps.get(k, []):
            visit(d)
        order.append(k)
    for k in want:
        visit(k)
    return order


def module_bytes(path):
    data = open(path, 'rb').read()
    if path.endswith('.gz'):
        return gzip.decompress(data)
    if path.endswith('.xz'):
        import lzma
        return lzma.decompress(data)
    if path.endswith('.zst'):
        return subprocess.run(['zstd', '-dc', path], check=True, capture_output=True).stdout
    return data


def build_initramfs(path, kver, busybox):
    c = Cpio()
    for d in ('bin', 'dev', 'proc', 'sys', 'tmp', 'lib', 'lib/modules'):
        c.dir(d)
    c.chardev('dev/console', 5, 1)
    c.chardev('dev/null', 1, 3)
    c.file('bin/busybox', open(busybox, 'rb').read(), 0o755)
    c.symlink('bin/sh', 'busybox')
    c.file('init', INIT.encode(), 0o755)
    names = []
    # virtio_pci provides the transport, virtio_net the NIC; both pull in their dependencies
    # (virtio, virtio_ring, failover, net_failover) through modules.dep.
    mods = []
    for m in ('virtio_pci', 'virtio_net'):
        for k in module_chain(kver, m):
            if k not in mods:
                mods.append(k)
    for k in mods:
        n = re.sub(r'\.(gz|xz|zst)$', '', os.path.basename(k))
        c.file('lib/modules/' + n, module_bytes(f'/lib/modules/{kver}/{k}'))
        names.append(n)
    c.file('modules.order', ('\n'.join(names) + '\n').encode())
    with open(path, 'wb') as f:
        f.write(c.finish())
    return names


# ---- processes ----

class Guest:
    """One QEMU guest; its serial console is QEMU's stdio."""

    def __init__(self, qemu, idx, kernel, initrd, sock, tmp, nic_opts):
        self.name = 'AB'[idx]
        self.ip = IPS[idx]
        cmd = [qemu, '-M', 'pc', '-accel', 'tcg', '-m', '256', '-smp', '1',
               '-object', 'memory-backend-memfd,id=mem,size=256M,share=on',
               '-numa', 'node,memdev=mem',
               '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
               '-serial', 'stdio', '-kernel', kernel, '-initrd', initrd,
               '-append', f'console=ttyS0 panic=-1 quiet loglevel=3 nfvip={self.ip}',
               '-chardev', f'socket,id=c0,path={sock},reconnect=1',
               '-netdev', 'vhost-user,id=n0,chardev=c0',
               '-device', f'virtio-net-pci,netdev=n0,mac={MACS[idx]}{nic_opts}']
        self.logf = open(os.path.join(tmp, f'guest{self.name}.log'), 'wb')
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(self.p)
        self.out = b''
        self.cv = threading.Condition()
        self.seq = 0
        threading.Thread(target=self._rd, daemon=True).start()

    def _rd(self):
        while True:
            d = os.read(self.p.stdout.fileno(), 65536)
            self.logf.write(d)
            self.logf.flush()
            with self.cv:
                self.out += d
                if not d:
                    self.cv.notify_all()
                    return
                self.cv.notify_all()

    def wait_re(self, pat, start, timeout, what):
        end = time.time() + left(timeout)
        rx = re.compile(pat)
        with self.cv:
            while True:
                m = rx.search(self.out, start)
                if m:
                    return m
                if self.p.poll() is not None:
                    raise Fail(f'guest {self.name}: QEMU exited ({self.p.returncode}) waiting for {what}; '
                               f'console tail: {self.out[-600:].decode(errors="replace")}')
                r = end - time.time()
                if r <= 0:
                    raise Fail(f'guest {self.name}: no {what} within {timeout} s; console tail: '
                               f'{self.out[-600:].decode(errors="replace")}')
                self.cv.wait(min(r, 1.0))

    def sh(self, line, timeout=30):
        """Run @line in the guest's shell; returns (status, output)."""
        self.seq += 1
        tag = f'Q{self.seq}Q'
        with self.cv:
            start = len(self.out)
        # The terminal echoes the command; the marker's status digits appear only in the output.
        self.p.stdin.write(f'{line}; echo "@@{tag}:$?@@"\n'.encode())
        self.p.stdin.flush()
        m = self.wait_re(rf'@@{tag}:(\d+)@@'.encode(), start, timeout, f'end of "{line}"')
        return int(m.group(1)), self.out[start:m.start()].decode(errors='replace')

    def kill(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except OSError:
                pass
            self.p.wait()
        self.logf.close()


class Switch:
    def __init__(self, binary, tmp, conf, n):
        self.ctl = os.path.join(tmp, 'ctl.sock')
        # --power-mode: an idle PMD sleeps, so the two TCG guests get the CPUs while booting.
        cmd = nt.switch_cmd(binary, self.ctl, f'interop{os.getpid()}',
                            eal=['--log-level=lib.vhost.*:error'],
                            args=['--config', conf, '--power-mode'])
        self.logf = open(os.path.join(tmp, f'switch{n}.log'), 'wb')
        self.p = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        procs.append(self.p)
        if not nt.wait_listen(self.ctl, self.p, left(60)):
            if self.p.poll() is not None:
                raise Fail(f'nfv-switch exited with {self.p.returncode}: see {self.logf.name}')
            raise Fail('nfv-switch control socket did not appear')

    def req(self, line):
        return nt.request_line(self.ctl, line)

    def stop(self):
        nt.stop(self.p, group=True)
        self.logf.close()


def tcp_stream(a, b, port, kib):
    """@kib KiB of random data from @a to @b over TCP; the md5sums must match."""
    # nc ends when its stdin ends (it half-closes the connection and the sender then stops
    # reading): the receiver's stdin must stay open, so it reads from a sleep that is killed after.
    st, _ = b.sh(f'rm -f /tmp/rx; (sleep 300 | nc -l -p {port} > /tmp/rx) & echo started')
    if st:
        raise Fail('nc -l did not start')
    time.sleep(0.5)
    st, out = a.sh(f'dd if=/dev/urandom of=/tmp/tx bs=1024 count={kib} 2>/dev/null; md5sum /tmp/tx')
    tx = re.search(r'([0-9a-f]{32})\s+/tmp/tx', out)
    t0 = time.time()
    st, out = a.sh(f'timeout 60 nc {b.ip} {port} < /tmp/tx', timeout=70)
    if st:
        raise Fail(f'nc to {b.ip}:{port} failed ({st}): {out.strip()[-300:]}')
    st, out = b.sh('n=0; while pidof nc >/dev/null && [ $n -lt 100 ]; do sleep 0.2; n=$((n+1)); done; '
                   'killall sleep 2>/dev/null; md5sum /tmp/rx; wc -c < /tmp/rx', timeout=40)
    rx = re.search(r'([0-9a-f]{32})\s+/tmp/rx', out)
    if not tx or not rx or tx.group(1) != rx.group(1):
        raise Fail(f'TCP stream corrupted or cut: sent {tx and tx.group(1)}, got {out.strip()}')
    dt = time.time() - t0
    log(f'tcp: {kib} KiB {a.name} -> {b.name} in {dt:.1f} s ({kib * 8 / 1024 / dt:.1f} Mbit/s under TCG), '
        f'md5 {rx.group(1)} on both sides')


def ping(a, b, count=3):
    st, out = a.sh(f'ping -c {count} -W 2 {b.ip}', timeout=30 + 3 * count)
    if st:
        raise Fail(f'ping {a.name} -> {b.name} failed: {out.strip()[-400:]}')
    m = re.search(r'(\d+) packets received', out)
    rtt = re.search(r'= [\d.]+/([\d.]+)/', out)
    log(f'ping {a.name} -> {b.name}: {m.group(1) if m else "?"}/{count} replies, '
        f'avg rtt {rtt.group(1) if rtt else "?"} ms')


def replies(g):
    st, out = g.sh('grep -c "bytes from" /tmp/ping.log')
    m = re.search(r'^(\d+)\s*$', out, re.M)
    return int(m.group(1)) if m else 0


def run(args, tmp):
    kernel = args.kernel or sorted(glob.glob('/boot/vmlinuz-*'))[-1]
    kver = os.path.basename(kernel)[len('vmlinuz-'):]
    initrd = os.path.join(tmp, 'initramfs.cpio')
    mods = build_initramfs(initrd, kver, args.busybox)
    log(f'kernel {kernel}; initramfs {os.path.getsize(initrd) // 1024} KiB with busybox'
        + (f' and modules {", ".join(mods)}' if mods else ' (virtio-net built in)'))

    socks = [os.path.join(tmp, f'vm{i}.sock') for i in range(2)]
    conf = os.path.join(tmp, 'switch.conf')
    with open(conf, 'w') as f:
        f.write('# two vhost-user server ports, one per QEMU guest\n')
        for i, s in enumerate(socks):
            f.write(f'{{"cmd":"port-add","name":"vm{i}","type":"vhost-user","path":"{s}","mode":"server"}}\n')
    # QEMU 7.2 under TCG crashes in vhost_net_start when the guest enables MSI-X on a vhost
    # device: msix_set_vector_notifiers() unmasks vectors through irqfd state that only exists
    # with KVM. Without MSI-X (vectors=0) the guest uses INTx and QEMU relays the backend's call
    # eventfds itself. --msix keeps MSI-X (for a QEMU with KVM or with that fixed).
    nic_opts = '' if args.msix else ',vectors=0'
    sw = Switch(args.switch, tmp, conf, 1)
    guests = []
    try:
        t0 = time.time()
        guests = [Guest(args.qemu, i, kernel, initrd, socks[i], tmp, nic_opts) for i in range(2)]
        for g in guests:
            g.wait_re(rb'INTEROP-READY\r?\n', 0, 180, 'boot to the shell')
            g.sh('stty -echo 2>/dev/null; true')
        log(f'both guests booted and configured in {time.time() - t0:.1f} s')
        a, b = guests
        ping(a, b)
        ping(b, a)
        st, out = a.sh('cat /sys/class/net/eth0/operstate; readlink /sys/class/net/eth0/device/driver')
        log(f'guest A eth0: {" ".join(out.split())}')
        tcp_stream(a, b, 5001, 2048)
        log(f'switch stats: {sw.req(STATS_REQ)[:400]}')

        # Restart the switch under a running ping (every 0.2 s).
        a.sh(f'ping -i 0.2 {b.ip} > /tmp/ping.log 2>&1 & echo $! > /tmp/ping.pid')
        time.sleep(2)
        n0 = replies(a)
        if n0 == 0:
            raise Fail('background ping got no replies before the restart')
        t_stop = time.time()
        sw.stop()
        log(f'nfv-switch stopped in {time.time() - t_stop:.1f} s ({n0} replies so far)')
        time.sleep(2)
        n1 = replies(a)
        sw = Switch(args.switch, tmp, conf, 2)
        t_start = time.time()
        log(f'nfv-switch started again {t_start - t_stop:.1f} s after the stop ({n1} replies before the outage)')
        end = time.time() + left(60)
        while replies(a) <= n1:
            if time.time() > end:
                raise Fail('pings did not resume within 60 s of the switch restart; '
                           f'switch: {sw.req(STATS_REQ)[:400]}')
            time.sleep(0.5)
        resumed = time.time()
        time.sleep(2)
        n2 = replies(a)
        a.sh('kill $(cat /tmp/ping.pid); sleep 0.3')
        st, out = a.sh('tail -n 3 /tmp/ping.log')
        log(f'pings resumed {resumed - t_start:.1f} s after the restart; {n2} replies in all; '
            f'ping: {" ".join(out.split())[-160:]}')
        ping(b, a)
        tcp_stream(b, a, 5002, 1024)
        log(f'switch stats after restart: {sw.req(STATS_REQ)[:400]}')
    finally:
        for g in guests:
            g.kill()
        sw.stop()


def main():
    global deadline
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--switch', required=True)
    ap.add_argument('--qemu', default=shutil.which('qemu-system-x86_64') or 'qemu-system-x86_64')
    ap.add_argument('--kernel')
    ap.add_argument('--busybox', default='/bin/busybox')
    ap.add_argument('--msix', action='store_true', help='leave MSI-X on for the guests\' NICs')
    ap.add_argument('--keep', help='keep logs and the initramfs in this directory')
    ap.add_argument('--timeout', type=float, default=240, help='bound on the whole test, seconds')
    args = ap.parse_args()
    deadline = time.time() + args.timeout
    missing = [w for w, ok in (
        ('nfv-switch', os.access(args.switch, os.X_OK)),
        ('qemu-system-x86_64', shutil.which(args.qemu) is not None),
        ('a kernel in /boot', args.kernel or glob.glob('/boot/vmlinuz-*')),
        ('busybox-static', os.access(args.busybox, os.X_OK))) if not ok]
    if not missing and shutil.which('file'):
        r = subprocess.run(['file', '-L', args.busybox], capture_output=True, text=True)
        if r.returncode == 0 and 'dynamically linked' in r.stdout:
            missing.append('a static busybox (busybox-static)')
    if missing:
        print('skip: missing ' + ', '.join(missing))
        return 77
    tmp = args.keep or tempfile.mkdtemp(prefix='interop-')
    os.makedirs(tmp, exist_ok=True)
    ok = False
    try:
        run(args, tmp)
        ok = True
        log('PASS')
    except Fail as e:
        log(f'FAIL: {e} (logs in {tmp})')
    finally:
        for p in procs:
            nt.stop(p, signal.SIGKILL, group=True)
        if ok and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(f'/var/run/dpdk/interop{os.getpid()}', ignore_errors=True)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
