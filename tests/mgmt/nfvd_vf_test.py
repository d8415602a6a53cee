#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""nfvd's SR-IOV VF handling through its real API socket, with the stub VMM and a fake sysfs tree
(nfvd --sysfs-root): double assignment refused, managed='no' devices that are not on vfio-pci
refused, the clear errors (no IOMMU, shared IOMMU group, vfio-pci missing, not a VF), and for
managed='yes' <hostdev>s the bind at start and the release on destroy, crash, a start that fails
halfway and across an nfvd restart.

The fake tree answers driver binding as the kernel does: a device's driver_override is a FIFO read
by a thread here; once an override names a driver the thread moves the device's driver link to it
and only then opens bus/pci/drivers_probe (also a FIFO) for reading, so nfvd's probe write cannot
complete before the link moved. Clearing the override rebinds the device's original driver.
VF settings (MAC/VLAN) go through rtnetlink to a real PF netdev, which the fake tree cannot
provide: <interface type='hostdev'> is checked up to that point here, and on a real igb PF in the
guest test."""
import argparse
import json
import os
import signal
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import nfvtest as nt  # noqa: E402
from nfvtest import check, wait_for, http  # noqa: E402
import nfvd_test  # noqa: E402
from nfvd_test import write, dominfo  # noqa: E402

PF = '0000:01:00.0'
VF = ['0000:01:10.0', '0000:01:10.2', '0000:01:10.4']
NIC = '0000:00:02.0'  # no SR-IOV, shares VF1's IOMMU group, bound to e1000e
NOSRIOV_PF, NOSRIOV_VF = '0000:02:00.0', '0000:02:10.0'


def config(vid, did, sriov=False, total=0, num=0):
    c = bytearray(4096)
    struct.pack_into('<HHHH', c, 0, vid, did, 0, 0x0010)
    struct.pack_into('<I', c, 8, 0x02000001)
    c[0x34] = 0x40
    c[0x40] = 0x10
    struct.pack_into('<H', c, 0x42, 2)
    if not sriov:
        struct.pack_into('<I', c, 0x100, 0x00010001)
        return bytes(c)
    struct.pack_into('<I', c, 0x100, 0x16010001)
    struct.pack_into('<I', c, 0x160, 0x00010010)
    struct.pack_into('<H', c, 0x168, 0x19 if num else 0)
    struct.pack_into('<HHH', c, 0x16c, total, total, num)
    struct.pack_into('<HH', c, 0x174, 0x80, 2)
    struct.pack_into('<H', c, 0x17a, 0x10ca)
    return bytes(c)


class FakeSysfs:
    def __init__(self, root):
        self.root = root
        self.natural = {}
        self.lock = threading.Lock()
        self.mk('bus/pci/devices')
        self.mk('bus/pci/drivers/vfio-pci')
        self.put('bus/pci/drivers/vfio-pci/unbind', '')
        self.put('bus/pci/drivers/vfio-pci/bind', '')
        os.mkfifo(self.p('bus/pci/drivers_probe'))
        self.dev(PF, 0x10c9, config(0x8086, 0x10c9, True, 8, 3), 'igb', 5)
        self.put(f'devices/pci0000:00/{PF}/sriov_totalvfs', '8\n')
        self.put(f'devices/pci0000:00/{PF}/sriov_numvfs', '3\n')
        for i, (vf, group) in enumerate(zip(VF, (6, 7, 8))):
            self.dev(vf, 0x10ca, config(0x8086, 0x10ca), 'igbvf', group, fifo=True)
            self.link(f'../{vf}', f'devices/pci0000:00/{PF}/virtfn{i}')
            self.link(f'../{PF}', f'devices/pci0000:00/{vf}/physfn')
        self.dev(NIC, 0x10d3, config(0x8086, 0x10d3), 'e1000e', 7, fifo=True)
        # a "VF" whose PF has no SR-IOV capability
        self.dev(NOSRIOV_PF, 0x10d3, config(0x8086, 0x10d3), 'e1000e', 9)
        self.dev(NOSRIOV_VF, 0x10ca, config(0x8086, 0x10ca), 'igbvf', 10)
        self.link(f'../{NOSRIOV_VF}', f'devices/pci0000:00/{NOSRIOV_PF}/virtfn0')
        self.link(f'../{NOSRIOV_PF}', f'devices/pci0000:00/{NOSRIOV_VF}/physfn')

    def p(self, rel):
        return os.path.join(self.root, rel)

    def mk(self, rel):
        os.makedirs(self.p(rel), exist_ok=True)

    def put(self, rel, data):
        with open(self.p(rel), 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)

    def link(self, target, rel):
        try:
            os.unlink(self.p(rel))
        except FileNotFoundError:
            pass
        os.symlink(target, self.p(rel))

    def dev(self, addr, did, cfg, driver, group, fifo=False):
        d = f'devices/pci0000:00/{addr}'
        self.mk(d)
        self.link(f'../../../{d}', f'bus/pci/devices/{addr}')
        self.put(f'{d}/config', cfg)
        self.put(f'{d}/vendor', '0x8086\n')
        self.put(f'{d}/device', f'0x{did:04x}\n')
        self.put(f'{d}/class', '0x020000\n')
        self.put(f'{d}/irq', '0\n')
        self.put(f'{d}/resource', '0x0 0x0 0x0\n')
        self.natural[addr] = driver
        self.bind(addr, driver)
        self.mk(f'kernel/iommu_groups/{group}/devices')
        self.link(f'../../../kernel/iommu_groups/{group}', f'{d}/iommu_group')
        self.link(f'../../../../{d}', f'kernel/iommu_groups/{group}/devices/{addr}')
        if fifo:
            os.mkfifo(self.p(f'{d}/driver_override'))
            threading.Thread(target=self.override_loop, args=(addr,), daemon=True).start()
        else:
            self.put(f'{d}/driver_override', '(null)\n')

    def bind(self, addr, driver):
        self.mk(f'bus/pci/drivers/{driver}')
        for f in ('unbind', 'bind'):
            if not os.path.exists(self.p(f'bus/pci/drivers/{driver}/{f}')):
                self.put(f'bus/pci/drivers/{driver}/{f}', '')
        self.link(f'../../../bus/pci/drivers/{driver}', f'devices/pci0000:00/{addr}/driver')

    def override_loop(self, addr):
        path = self.p(f'devices/pci0000:00/{addr}/driver_override')
        while True:
            try:
                with open(path) as f:
                    val = f.read().strip()
            except OSError:
                return
            with self.lock:
                if val and val != '(null)':
                    # sriov_bind_vfio: override, unbind, probe, then it reads the link
                    self.bind(addr, val)
                    try:
                        with open(self.p('bus/pci/drivers_probe')) as f:
                            f.read()
                    except OSError:
                        return
                else:
                    # release: the original driver's bind follows the cleared override
                    self.bind(addr, self.natural[addr])

    def driver(self, addr):
        try:
            return os.path.basename(os.readlink(self.p(f'devices/pci0000:00/{addr}/driver')))
        except OSError:
            return ''


def pci_attrs(addr):
    """A PCI address ('0000:01:10.2') as the attributes of a libvirt <address/>."""
    d, rest = addr.split(':', 1)
    b, sf = rest.split(':')
    s, f = sf.split('.')
    return f"domain='0x{d}' bus='0x{b}' slot='0x{s}' function='0x{f}'"


def hostdev(addr, managed='yes'):
    return (f"<hostdev mode='subsystem' type='pci' managed='{managed}'><source>"
            f"<address {pci_attrs(addr)}/></source></hostdev>")


def iface(addr, mac='52:54:00:12:34:56', vlan=42, managed='yes'):
    return (f"<interface type='hostdev' managed='{managed}'><mac address='{mac}'/><source>"
            f"<address type='pci' {pci_attrs(addr)}/></source><vlan><tag id='{vlan}'/></vlan>"
            f"</interface>")


def define(env, name, devs, on_crash='destroy'):
    xml = nt.domain_xml(name, '/nonexistent/guest.elf', extra_dev=devs,
                        on_crash=on_crash)
    env.ctl('define', write(env, f'{name}.xml', xml))


def record(env, name):
    try:
        return json.load(open(os.path.join(env.state, 'runtime', f'{name}.vf.json')))
    except OSError:
        return None


def test_bind_release(env, fs):
    """managed='yes' hostdev: bound at start, lease recorded, released on destroy and crash"""
    define(env, 'a', hostdev(VF[0]))
    p = env.ctl('start', 'a')
    check("Domain 'a' started" in p.stdout, f'start a: {p.stdout}{p.stderr}')
    check(fs.driver(VF[0]) == 'vfio-pci', f'VF0 on vfio-pci after start ({fs.driver(VF[0])})')
    rec = record(env, 'a')
    check(rec and len(rec['leases']) == 1 and rec['leases'][0]['vf_addr'] == VF[0] and
          rec['leases'][0]['pf'] == PF and rec['leases'][0]['vf'] == 0 and
          rec['leases'][0]['orig_driver'] == 'igbvf', f'lease recorded: {rec}')
    vfs = http('GET', '/domains/a', env=env)[1].get('vfs')
    check(vfs == [{'addr': VF[0], 'pf': PF, 'vf': 0, 'orig_driver': 'igbvf'}], f'API vfs {vfs}')
    live = open(os.path.join(env.run, 'a.xml')).read()
    check("bus='0x01' slot='0x10' function='0x0'" in live, 'live XML names the VF')
    env.ctl('destroy', 'a')
    check(wait_for(lambda: fs.driver(VF[0]) == 'igbvf'), 'destroy rebound igbvf')
    check(http('GET', '/domains/a', env=env)[1].get('vfs') == [], 'no vfs after destroy')
    check(record(env, 'a') is None, 'destroy removed the VF record')
    # crash: the VMM killed under nfvd
    env.ctl('start', 'a')
    check(fs.driver(VF[0]) == 'vfio-pci', 'VF0 bound again')
    os.kill(http('GET', '/domains/a', env=env)[1]['pid'], signal.SIGKILL)
    check(wait_for(lambda: dominfo(env, 'a').get('State') == 'crashed'), 'crash recorded')
    check(wait_for(lambda: fs.driver(VF[0]) == 'igbvf'), 'crash released VF0')
    check(record(env, 'a') is None, 'crash removed the VF record')


def test_double_assignment(env, fs):
    """a VF held by a running domain is refused to another before it is touched"""
    define(env, 'a', hostdev(VF[0]))
    env.ctl('start', 'a')
    for managed in ('yes', 'no'):
        define(env, 'b', hostdev(VF[0], managed))
        p = env.ctl('start', 'b', ok=False)
        check(f'{VF[0]} is already assigned to running domain \'a\'' in p.stderr,
              f'double assignment (managed={managed}): {p.stderr}')
        check(fs.driver(VF[0]) == 'vfio-pci' and record(env, 'b') is None, 'nothing touched')
    define(env, 'b', iface(VF[0]))
    p = env.ctl('start', 'b', ok=False)
    check('already assigned' in p.stderr, f'interface double assignment: {p.stderr}')
    check(record(env, 'a') and len(record(env, 'a')['leases']) == 1, "a's lease kept")
    env.ctl('destroy', 'a')
    check(wait_for(lambda: fs.driver(VF[0]) == 'igbvf'), 'released')


def test_managed_no(env, fs):
    """managed='no': must already be on vfio-pci; nfvd neither binds nor releases it"""
    define(env, 'n', hostdev(VF[2], 'no'))
    p = env.ctl('start', 'n', ok=False)
    check(f'{VF[2]} is not bound to vfio-pci' in p.stderr, f'managed=no refusal: {p.stderr}')
    fs.bind(VF[2], 'vfio-pci')
    env.ctl('start', 'n')
    check(record(env, 'n') is None, 'no lease for managed=no')
    env.ctl('destroy', 'n')
    check(fs.driver(VF[2]) == 'vfio-pci', 'managed=no device left on vfio-pci')
    fs.bind(VF[2], 'igbvf')
    define(env, 'n', hostdev('0000:05:00.0', 'no'))
    p = env.ctl('start', 'n', ok=False)
    check('0000:05:00.0 not found' in p.stderr, f'missing device: {p.stderr}')


def test_errors(env, fs):
    """clear errors; a start that fails halfway leaves nothing bound"""
    # VF0 fine, VF1 shares its group with a NIC on e1000e: VF0 must be released again
    define(env, 'h', hostdev(VF[0]) + hostdev(VF[1]))
    p = env.ctl('start', 'h', ok=False)
    check(f'{VF[1]}' in p.stderr and 'IOMMU group is shared' in p.stderr,
          f'shared group: {p.stderr}')
    check(wait_for(lambda: fs.driver(VF[0]) == 'igbvf'), 'halfway start released VF0')
    check(fs.driver(VF[1]) == 'igbvf' and record(env, 'h') is None, 'nothing left')
    check(dominfo(env, 'h').get('State') == 'shut off', 'still shut off')
    # no IOMMU
    define(env, 'h', hostdev(VF[2]))
    os.unlink(fs.p(f'devices/pci0000:00/{VF[2]}/iommu_group'))
    p = env.ctl('start', 'h', ok=False)
    check('no IOMMU' in p.stderr and 'intel_iommu=on' in p.stderr, f'no IOMMU: {p.stderr}')
    fs.link('../../../kernel/iommu_groups/8', f'devices/pci0000:00/{VF[2]}/iommu_group')
    # vfio-pci module missing
    os.rename(fs.p('bus/pci/drivers/vfio-pci'), fs.p('bus/pci/drivers/vfio-pci.off'))
    p = env.ctl('start', 'h', ok=False)
    check('vfio-pci driver is not loaded' in p.stderr, f'vfio-pci missing: {p.stderr}')
    os.rename(fs.p('bus/pci/drivers/vfio-pci.off'), fs.p('bus/pci/drivers/vfio-pci'))
    # a VF interface on a function that is not a VF
    define(env, 'h', iface(NIC))
    p = env.ctl('start', 'h', ok=False)
    check('not an SR-IOV VF' in p.stderr, f'not a VF: {p.stderr}')
    # a PF without SR-IOV capability
    define(env, 'h', iface(NOSRIOV_VF))
    p = env.ctl('start', 'h', ok=False)
    check(f'its PF {NOSRIOV_PF} has no SR-IOV capability' in p.stderr, f'PF no SR-IOV: {p.stderr}')
    check(fs.driver(NOSRIOV_VF) == 'igbvf', 'untouched')
    # a VF interface whose PF has no netdev here: the settings fail, nothing stays bound
    define(env, 'h', iface(VF[2]))
    p = env.ctl('start', 'h', ok=False)
    check(VF[2] in p.stderr and 'VF 2 of PF 0000:01:00.0' in p.stderr and
          'PF has no network interface' in p.stderr, f'no PF netdev: {p.stderr}')
    check(fs.driver(VF[2]) == 'igbvf' and record(env, 'h') is None, 'nothing left bound')
    check(all(fs.driver(v) == 'igbvf' for v in VF), 'all VFs on igbvf')


def test_nfvd_restart(env, fs):
    """leases survive an nfvd restart: released when the adopted VM is destroyed, or at start
    of the next nfvd when the VM died in between"""
    define(env, 'r', hostdev(VF[0]))
    env.ctl('start', 'r')
    pid = http('GET', '/domains/r', env=env)[1]['pid']
    env.stop_nfvd()
    check(fs.driver(VF[0]) == 'vfio-pci', 'VF stays bound while the VM runs without nfvd')
    env.start_nfvd(extra=['--sysfs-root', fs.root])
    j = http('GET', '/domains/r', env=env)[1]
    check(j.get('pid') == pid, 're-adopted')
    check([v['addr'] for v in j.get('vfs', [])] == [VF[0]], f'API vfs from the record {j}')
    env.ctl('destroy', 'r')
    check(wait_for(lambda: fs.driver(VF[0]) == 'igbvf'), 'adopted domain released its VF')
    check(record(env, 'r') is None, 'record removed')
    env.ctl('start', 'r')
    pid = http('GET', '/domains/r', env=env)[1]['pid']
    env.stop_nfvd()
    os.kill(pid, signal.SIGKILL)
    check(wait_for(lambda: not os.path.exists(f'/proc/{pid}/stat') or
                   open(f'/proc/{pid}/stat').read().split(') ')[1][0] == 'Z'), 'VM gone')
    env.start_nfvd(extra=['--sysfs-root', fs.root])
    check(wait_for(lambda: fs.driver(VF[0]) == 'igbvf'), 'next nfvd released the dead VM\'s VF')
    check(record(env, 'r') is None, 'stale record removed')


TESTS = [test_bind_release, test_double_assignment, test_managed_no, test_errors,
         test_nfvd_restart]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--nfvd', required=True)
    ap.add_argument('--nfvctl', required=True)
    ap.add_argument('--vmm', required=True, help='stub_vmm.py')
    ap.add_argument('tests', nargs='*')
    args = ap.parse_args()
    nfvd_test.ARGS = argparse.Namespace(nfvd=args.nfvd, nfvctl=args.nfvctl, vmm=args.vmm,
                                        switch=None, guest=None, ovs=None, switch_args='')

    def sysfs(env):
        fs = FakeSysfs(os.path.join(env.tmp, 'sys'))
        return ['--sysfs-root', fs.root], (fs,)
    return nfvd_test.run_tests(TESTS, args.tests, sysfs)


if __name__ == '__main__':
    sys.exit(main())
