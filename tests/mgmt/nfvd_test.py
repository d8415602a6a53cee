#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""nfvd driven through its real API socket, with nfvctl and raw HTTP.

The VMM is the real nfv-vmm (--vmm build/vmm/nfv-vmm, needs /dev/kvm and a guest ELF) or the
protocol-compatible tests/mgmt/stub_vmm.py; the switch is the real nfv-switch (--switch, DPDK
--no-huge) or an in-process stand-in speaking the same JSON-lines control protocol. Every test
uses fresh temporary state and run directories and kills what it started by pid."""
import argparse
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import nfvtest as nt  # noqa: E402
from nfvtest import check, wait_for, raw, http, domain_xml, FakeSwitch, FAILS  # noqa: E402

ARGS = None


OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'
OVS_BRIDGE = 'br-nfv'


class Skip(Exception):
    pass


class Ovs:
    """A private OVS-DPDK: own database, run/log/db dirs and DPDK file prefix, so nothing touches
    a system OVS (as tests/perf/switch-pvp and net/virtio/test_vun_ovs.c start it)."""

    def __init__(self, tmp):
        self.tmp = tmp
        os.makedirs(tmp)
        self.env = dict(os.environ, OVS_RUNDIR=tmp, OVS_LOGDIR=tmp, OVS_DBDIR=tmp,
                        OVS_SYSCONFDIR=tmp)
        self.db = 'unix:' + os.path.join(tmp, 'db.sock')
        self.started = []

    def run(self, *c, check=True, timeout=60):
        p = subprocess.run(c, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode:
            raise RuntimeError(f'{" ".join(c)}: {p.returncode} {p.stderr.strip()}')
        return p

    def vsctl(self, *c, check=True):
        return self.run('ovs-vsctl', '--db=' + self.db, '--timeout=30', *c,
                        check=check).stdout.strip()

    def log_tail(self, n=8):
        try:
            return ''.join(open(os.path.join(self.tmp, 'vswitchd.log')).readlines()[-n:])
        except OSError:
            return ''

    def start(self):
        for f in (ARGS.ovs, OVS_SCHEMA):
            if not os.path.exists(f):
                raise Skip(f'OVS-DPDK is not installed ({f} missing)')
        for tool in ('ovsdb-tool', 'ovsdb-server', 'ovs-vsctl'):
            if not shutil.which(tool):
                raise Skip(f'{tool} not found')
        dbfile = os.path.join(self.tmp, 'conf.db')
        self.run('ovsdb-tool', 'create', dbfile, OVS_SCHEMA)
        self.run('ovsdb-server', dbfile, '--remote=p' + self.db,
                 '--pidfile=' + os.path.join(self.tmp, 'ovsdb.pid'), '--detach',
                 '--log-file=' + os.path.join(self.tmp, 'ovsdb.log'))
        self.started.append('ovsdb.pid')
        self.vsctl('--no-wait', 'init')
        # DPDK without hugepages or PCI, as everywhere on these machines; the PMD polls on
        # CPU 1, the guests run on CPU 0
        self.vsctl('--no-wait', 'set', 'Open_vSwitch', '.', 'other_config:dpdk-init=true',
                   'other_config:dpdk-extra=--no-huge --no-pci -m 3072 --legacy-mem '
                   f'--file-prefix=nfvdovs{os.getpid()}',
                   'other_config:dpdk-lcore-mask=0x1', 'other_config:pmd-cpu-mask=0x2')
        p = self.run(ARGS.ovs, self.db, '--pidfile=' + os.path.join(self.tmp, 'vswitchd.pid'),
                     '--detach', '--log-file=' + os.path.join(self.tmp, 'vswitchd.log'),
                     check=False, timeout=120)
        if os.path.exists(os.path.join(self.tmp, 'vswitchd.pid')):
            self.started.insert(0, 'vswitchd.pid')
        if p.returncode:
            raise Skip(f'ovs-vswitchd-dpdk did not start (status {p.returncode}): '
                       f'{p.stderr.strip()[-300:]}\n{self.log_tail()}')
        if not wait_for(lambda: self.vsctl('get', 'Open_vSwitch', '.', 'dpdk_initialized',
                                           check=False) == 'true', 60, 0.5):
            raise Skip(f'OVS-DPDK did not initialise DPDK:\n{self.log_tail()}')
        self.vsctl('add-br', OVS_BRIDGE, '--', 'set', 'bridge', OVS_BRIDGE,
                   'datapath_type=netdev')

    def stop(self):
        for pidf in self.started:
            try:
                pid = int(open(os.path.join(self.tmp, pidf)).read())
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.1)
                os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass
        self.started = []
        # DPDK's runtime directory for our file prefix outlives the process
        shutil.rmtree(f'/var/run/dpdk/nfvdovs{os.getpid()}', ignore_errors=True)

    def appctl(self, *c):
        ctl = [f for f in os.listdir(self.tmp) if f.startswith('ovs-vswitchd') and
               f.endswith('.ctl')]
        if not ctl:
            return ''
        return self.run('ovs-appctl', '-t', os.path.join(self.tmp, ctl[0]), *c,
                        check=False).stdout

    def ports(self):
        out = self.vsctl('list-ports', OVS_BRIDGE)
        return out.split() if out else []

    def get(self, table, rec, col):
        return self.vsctl('get', table, rec, col)

    def stats(self, port):
        m = self.get('Interface', port, 'statistics').strip('{}')
        return {k.strip().strip('"'): int(v) for k, v in
                (kv.split('=') for kv in m.split(',') if kv.strip())}


class Env:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix='nfvd-test-')
        # nfvd's VMMs drop to an unprivileged user (--vmm-user, default 'nfvisor') and must
        # still reach their switch sockets below this directory
        os.chmod(self.tmp, 0o711)
        self.state = os.path.join(self.tmp, 'state')
        self.run = os.path.join(self.tmp, 'run')
        os.makedirs(self.run)
        self.sock = os.path.join(self.run, 'nfvd.sock')
        self.swsock = os.path.join(self.run, 'switch.sock')
        self.nfvd = None
        self.switch_proc = None
        self.fake_switch = None
        self.vmm = ARGS.vmm
        self.ovs = None
        self.nfvd_args = []
        if ARGS.ovs:
            self.ovs = Ovs(os.path.join(self.tmp, 'ovs'))
            try:
                self.ovs.start()
            except BaseException:
                self.ovs.stop()
                shutil.rmtree(self.tmp, ignore_errors=True)
                raise
            self.nfvd_args = ['--network', f'ovsnet=ovs:{OVS_BRIDGE},db={self.ovs.db}',
                              '--network', 'nfv-switch=nfv-switch']
        if ARGS.vmm.endswith('.py'):
            # nfvd recognises its VMMs by name when it re-adopts them
            self.vmm = os.path.join(self.tmp, 'nfv-vmm')
            os.symlink(os.path.abspath(ARGS.vmm), self.vmm)
        if ARGS.switch:
            self.start_switch()
        else:
            self.fake_switch = FakeSwitch(self.swsock)

    def start_switch(self):
        self.switch_proc = nt.start_logged(
            nt.switch_cmd(ARGS.switch, self.swsock, f'nfvmgmt{os.getpid()}', memory=256,
                          args=ARGS.switch_args.split()), os.path.join(self.tmp, 'switch.log'))
        if not wait_for(lambda: os.path.exists(self.swsock), 30):
            raise RuntimeError('nfv-switch did not create its control socket')

    def kill_switch(self):
        nt.stop(self.switch_proc, signal.SIGKILL, 10)
        if os.path.exists(self.swsock):
            os.unlink(self.swsock)

    def start_nfvd(self, extra=()):
        self.nfvd = nt.start_logged(nt.nfvd_cmd(ARGS.nfvd, self.state, self.run, self.vmm,
                                                [*self.nfvd_args, *extra]),
                                    os.path.join(self.tmp, 'nfvd.log'))
        check(wait_for(lambda: os.path.exists(self.sock) and self.ping()), 'nfvd came up')

    def stop_nfvd(self, sig=signal.SIGTERM):
        rc = nt.stop(self.nfvd, sig, 10)
        # a clean exit also means no sanitizer report in sanitizer builds
        check(rc == 0, f'nfvd exit status {rc} (see {self.tmp}/nfvd.log)')
        self.nfvd = None

    def ping(self):
        try:
            return http('GET', '/domains', env=self)[0] == 200
        except OSError:
            return False

    def ctl(self, *args, ok=True, input=None):
        p = subprocess.run([ARGS.nfvctl, '-c', self.sock, *args], capture_output=True, text=True,
                           input=input, timeout=60)
        if ok is not None:
            check((p.returncode == 0) == ok,
                  f'nfvctl {" ".join(args)}: rc {p.returncode}\n{p.stdout}{p.stderr}')
        return p

    def switch_call(self, req):
        return nt.request(self.swsock, req, timeout=60)

    def switch_ports(self):
        return {p['name']: p for p in self.switch_call({'cmd': 'port-list'})['ports']}

    def close(self):
        if self.nfvd:
            self.stop_nfvd()
        # nfv-vmm processes outlive nfvd by design: kill the ones this test started, by pid
        rt = os.path.join(self.state, 'runtime')
        for f in os.listdir(rt) if os.path.isdir(rt) else []:
            try:
                pid = json.load(open(os.path.join(rt, f)))['pid']
                os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError, KeyError):
                pass
        if self.switch_proc:
            nt.stop(self.switch_proc, timeout=10)
        if self.fake_switch:
            self.fake_switch.close()
        if self.ovs:
            self.ovs.stop()
        nt.remove_tmp(self.tmp)


def write(env, name, text):
    p = os.path.join(env.tmp, name)
    with open(p, 'w') as f:
        f.write(text)
    return p


def dominfo(env, name):
    out = env.ctl('dominfo', name).stdout
    return {line.split(':', 1)[0].strip(): line.split(':', 1)[1].strip()
            for line in out.splitlines() if ':' in line}


def test_lifecycle(env):
    """define, start, list, dominfo, domiflist, domifstat, console, destroy, undefine"""
    kernel = ARGS.guest or '/nonexistent/guest.elf'
    f = write(env, 'vm1.xml', domain_xml('vm1', kernel, port_dev='vm1-eth0', pins='0'))
    p = env.ctl('define', f)
    check(f"Domain 'vm1' defined from {f}" in p.stdout, 'define message')
    p = env.ctl('list', '--all')
    check(' Id   Name   State' in p.stdout and ' -    vm1    shut off' in p.stdout,
          f'list --all table:\n{p.stdout}')
    check(env.ctl('list').stdout.count('\n') == 3, 'list without --all hides shut off domains')
    p = env.ctl('start', 'vm1')
    check("Domain 'vm1' started" in p.stdout, 'start message')
    info = dominfo(env, 'vm1')
    check(info.get('State') == 'running' and info.get('Id') == '1', f'dominfo running {info}')
    check(info.get('Max memory') == '65536 KiB' and info.get('CPU(s)') == '1', 'dominfo sizes')
    p = env.ctl('list')
    check(' 1    vm1    running' in p.stdout, f'list running:\n{p.stdout}')
    ports = env.switch_ports()
    check('vm1-eth0' in ports and ports['vm1-eth0'].get('vlan') == 10 and
          ports['vm1-eth0'].get('mode') == 'server', f'switch port created: {ports}')
    p = env.ctl('domiflist', 'vm1')
    check(' vm1-eth0    bridge   nfv-switch   virtio' in p.stdout, f'domiflist:\n{p.stdout}')
    p = env.ctl('domifstat', 'vm1', 'vm1-eth0')
    stats = {l.split()[1]: int(l.split()[2]) for l in p.stdout.splitlines() if l.strip()}
    check(set(stats) == {'rx_bytes', 'rx_packets', 'rx_errs', 'rx_drop', 'tx_bytes',
                         'tx_packets', 'tx_errs', 'tx_drop'}, f'domifstat keys {stats}')
    if env.fake_switch:
        # guest view: what the port transmitted, the guest received
        check(stats.get('rx_packets') == 7 and stats.get('tx_packets') == 5,
              f'domifstat after traffic {stats}')
    env.ctl('domifstat', 'vm1', 'nope', ok=False)
    p = env.ctl('vcpuinfo', 'vm1')
    check('VCPU:           0' in p.stdout and 'CPU Affinity:' in p.stdout, 'vcpuinfo')
    p = env.ctl('dumpxml', 'vm1')
    check("<name>vm1</name>" in p.stdout and "<target dev='vm1-eth0'/>" in p.stdout, 'dumpxml')
    live = open(os.path.join(env.run, 'vm1.xml')).read()
    check("type='vhostuser'" in live and 'vm1-eth0.sock' in live and "mode='client'" in live,
          'live XML turns the bridge port into a vhost-user client')
    if ARGS.vmm.endswith('.py'):
        p = env.ctl('console', 'vm1', input='hello\n')
        check("Connected to domain 'vm1'" in p.stdout and 'vm1 serial console' in p.stdout,
              f'console:\n{p.stdout}{p.stderr}')
    p = env.ctl('undefine', 'vm1', ok=False)
    check('is running' in p.stderr, f'undefine of a running domain refused: {p.stderr}')
    other = domain_xml('vm1', kernel).replace('<name>vm1</name>', '<name>vm1</name><uuid>'
                                              '11111111-2222-3333-4444-555555555555</uuid>')
    p = env.ctl('define', write(env, 'vm1b.xml', other), ok=False)
    check('already exists with uuid' in p.stderr, f'uuid conflict: {p.stderr}')
    p = env.ctl('destroy', 'vm1')
    check("Domain 'vm1' destroyed" in p.stdout, 'destroy message')
    check('vm1-eth0' not in env.switch_ports(), 'destroy removed the switch port')
    check(not os.path.exists(os.path.join(env.state, 'runtime', 'vm1.json')), 'runtime removed')
    p = env.ctl('destroy', 'vm1', ok=False)
    check('error: Failed to destroy domain' in p.stderr and 'not running' in p.stderr,
          'destroy of a shut off domain')
    p = env.ctl('undefine', 'vm1')
    check("Domain 'vm1' has been undefined" in p.stdout, 'undefine message')
    p = env.ctl('dominfo', 'vm1', ok=False)
    check(p.stderr.strip() == "error: failed to get domain 'vm1'", 'unknown domain error')
    check(os.listdir(os.path.join(env.state, 'domains')) == [], 'definition file removed')


def test_define_errors(env):
    """unsupported elements listed in one error; --drop-unsupported; edit validation"""
    bad = write(env, 'bad.xml', """<domain type='kvm'>
  <name>bad</name>
  <memory>1024</memory>
  <os><type>hvm</type></os>
  <devices>
    <graphics type='vnc'/>
    <watchdog model='i6300esb'/>
  </devices>
</domain>
""")
    p = env.ctl('define', bad, ok=False)
    check('error: Failed to define domain from' in p.stderr and 'line 6' in p.stderr and
          'line 7' in p.stderr, f'one error lists everything:\n{p.stderr}')
    p = env.ctl('define', '--drop-unsupported', bad, ok=False)
    check('line 7' in p.stderr and 'line 6' not in p.stderr, 'only the watchdog remains')
    good = write(env, 'desk.xml', """<domain type='kvm'>
  <name>desk</name>
  <memory>1024</memory>
  <os><type>hvm</type></os>
  <devices>
    <graphics type='vnc'/>
  </devices>
</domain>
""")
    p = env.ctl('define', '--drop-unsupported', good)
    check("warning:" in p.stderr and "dropped <graphics type='vnc'>" in p.stderr,
          f'dropped devices reported:\n{p.stderr}')
    # edit: a broken edit is refused and leaves the definition alone
    editor = write(env, 'editor.sh', '#!/bin/sh\nsed -i "s/>1024<.memory>/>0<\\/memory>/" "$1"\n')
    os.chmod(editor, 0o755)
    before = env.ctl('dumpxml', 'desk').stdout
    p = subprocess.run([ARGS.nfvctl, '-c', env.sock, 'edit', 'desk'], capture_output=True,
                       text=True, env=dict(os.environ, EDITOR=editor, VISUAL=''), stdin=subprocess.DEVNULL)
    check(p.returncode == 1 and 'greater than zero' in p.stderr, f'edit refused:\n{p.stderr}')
    check(env.ctl('dumpxml', 'desk').stdout == before, 'failed edit changed nothing')
    editor2 = write(env, 'editor2.sh', '#!/bin/sh\nsed -i "s/<vcpu>1</<vcpu>2</" "$1"\n')
    os.chmod(editor2, 0o755)
    p = subprocess.run([ARGS.nfvctl, '-c', env.sock, 'edit', 'desk'], capture_output=True,
                       text=True, env=dict(os.environ, EDITOR=editor2, VISUAL=''), stdin=subprocess.DEVNULL)
    check(p.returncode == 0 and 'XML configuration edited' in p.stdout, f'edit ok {p.stderr}')
    check('<vcpu>2</vcpu>' in env.ctl('dumpxml', 'desk').stdout, 'edit applied')
    env.ctl('undefine', 'desk')


def test_start_failures(env):
    """failures halfway leave no port or process behind; CPU double booking"""
    kernel = ARGS.guest or '/nonexistent/guest.elf'
    # the switch refuses the second port (name taken): the first port must be removed again
    env.switch_call({'cmd': 'port-add', 'name': 'taken', 'type': 'vhost-user',
                     'path': os.path.join(env.run, 'taken.sock'), 'mode': 'server'})
    two = domain_xml('vm2', kernel, port_dev='vm2-a').replace(
        '</devices>', "<interface type='network'><source network='x'/><target dev='taken'/>"
        "</interface></devices>")
    env.ctl('define', write(env, 'vm2.xml', two))
    p = env.ctl('start', 'vm2', ok=False)
    check("Failed to start domain 'vm2'" in p.stderr and 'taken' in p.stderr, p.stderr)
    ports = env.switch_ports()
    check('vm2-a' not in ports, f'half-created port removed: {ports}')
    check(dominfo(env, 'vm2').get('State') == 'shut off', 'still shut off')
    env.switch_call({'cmd': 'port-del', 'name': 'taken'})
    # the VMM refusing its configuration fails the start with its words
    if ARGS.vmm.endswith('.py'):
        env.ctl('define', write(env, 'vm3.xml', domain_xml('vm3', kernel, desc='stub:exit=2')))
        p = env.ctl('start', 'vm3', ok=False)
        check('exited during start (status 2)' in p.stderr, f'config error: {p.stderr}')
        env.ctl('undefine', 'vm3')
    # resources the host does not have
    env.ctl('define', write(env, 'r1.xml', domain_xml('r1', kernel, pins='1000')))
    p = env.ctl('start', 'r1', ok=False)
    check('host CPU 1000' in p.stderr and 'not online' in p.stderr, f'offline CPU: {p.stderr}')
    huge = domain_xml('r2', kernel, port_dev='r2-eth0').replace(
        '<vcpu', "<memoryBacking><hugepages><page size='1' unit='TiB'/></hugepages>"
        "</memoryBacking><vcpu")
    env.ctl('define', write(env, 'r2.xml', huge))
    p = env.ctl('start', 'r2', ok=False)
    check('hugepages of 1073741824 KiB are not available' in p.stderr, f'hugepages: {p.stderr}')
    check('r2-eth0' not in env.switch_ports(), 'no port created before the resource check')
    env.ctl('undefine', 'r1')
    env.ctl('undefine', 'r2')
    # two running domains may not pin vCPUs to the same host CPU
    env.ctl('define', write(env, 'p1.xml', domain_xml('p1', kernel, pins='0')))
    env.ctl('define', write(env, 'p2.xml', domain_xml('p2', kernel, pins='0')))
    env.ctl('start', 'p1')
    p = env.ctl('start', 'p2', ok=False)
    check("already pinned to vcpu 0 of running domain 'p1'" in p.stderr, p.stderr)
    p = env.ctl('vcpupin', 'p1', '0', '9999', ok=False)
    check('out of range' in p.stderr or 'not online' in p.stderr, f'vcpupin bad cpu {p.stderr}')
    if os.cpu_count() > 1:
        env.ctl('vcpupin', 'p1', '0', '1')
        check(' 0      1' in env.ctl('vcpupin', 'p1').stdout, 'live vcpupin shows')
        env.stop_nfvd()
        env.start_nfvd()
        check(' 0      1' in env.ctl('vcpupin', 'p1').stdout, 'live vcpupin survives nfvd restart')
        check("<vcpupin vcpu='0' cpuset='0'/>" in env.ctl('dumpxml', 'p1', '--inactive').stdout,
              'the persistent definition keeps its pin')
        env.ctl('start', 'p2')  # CPU 0 is free now
        env.ctl('destroy', 'p2')
    env.ctl('destroy', 'p1')
    for n in ('vm2', 'p1', 'p2'):
        env.ctl('undefine', n)


def test_crash_and_restart(env):
    """kill -9 of nfv-vmm is a crash; resources released; on_crash=restart; nfvd restart adopts"""
    kernel = ARGS.guest or '/nonexistent/guest.elf'
    env.ctl('define', write(env, 'c1.xml', domain_xml('c1', kernel, port_dev='c1-eth0')))
    env.ctl('start', 'c1')
    _, j, _ = http('GET', '/domains/c1', env=env)
    pid = j['pid']
    os.kill(pid, signal.SIGKILL)
    check(wait_for(lambda: dominfo(env, 'c1').get('State') == 'crashed'), 'recorded as crashed')
    check(dominfo(env, 'c1').get('State reason') == 'crashed', 'reason crashed')
    check('c1-eth0' not in env.switch_ports(), 'crash released the switch port')
    check(not os.path.exists(os.path.join(env.run, 'c1.ctl')), 'crash removed the control socket')
    # on_crash=restart brings it back with a new process
    env.ctl('define', write(env, 'c1.xml', domain_xml('c1', kernel, port_dev='c1-eth0',
                                                     on_crash='restart')))
    env.ctl('start', 'c1')
    pid = http('GET', '/domains/c1', env=env)[1]['pid']
    os.kill(pid, signal.SIGKILL)
    check(wait_for(lambda: http('GET', '/domains/c1', env=env)[1]['pid'] not in (0, pid) and
                   dominfo(env, 'c1').get('State') == 'running'), 'on_crash=restart restarted')
    # nfvd restart with the domain running: the VM survives and is re-adopted
    pid = http('GET', '/domains/c1', env=env)[1]['pid']
    env.stop_nfvd()
    check(os.path.exists(f'/proc/{pid}'), 'nfv-vmm survives nfvd exit')
    env.start_nfvd()
    _, j, _ = http('GET', '/domains/c1', env=env)
    check(j['state'] == 'running' and j['pid'] == pid, f're-adopted {j}')
    check('c1-eth0' in env.switch_ports(), 'port kept across nfvd restart')
    check(http('GET', '/domains/c1/stats', env=env)[0] == 200, 'stats after re-adoption')
    # an adopted VM that is killed is still recorded as crashed and cleaned up
    env.ctl('define', write(env, 'c1.xml', domain_xml('c1', kernel, port_dev='c1-eth0')))
    os.kill(pid, signal.SIGKILL)
    check(wait_for(lambda: dominfo(env, 'c1').get('State') == 'crashed'), 'adopted crash')
    check('c1-eth0' not in env.switch_ports(), 'adopted crash released the port')
    # nfvd down while the VM dies: the next nfvd cleans up after it
    env.ctl('start', 'c1')
    pid = http('GET', '/domains/c1', env=env)[1]['pid']
    env.stop_nfvd()
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    env.start_nfvd()
    check(dominfo(env, 'c1').get('State') == 'shut off', 'stale runtime record discarded')
    check('c1-eth0' not in env.switch_ports(), 'stale port removed')
    # autostart
    env.ctl('autostart', 'c1')
    env.stop_nfvd()
    env.start_nfvd()
    check(dominfo(env, 'c1').get('State') == 'running', 'autostarted with the daemon')
    check(dominfo(env, 'c1').get('Autostart') == 'enable', 'autostart shown')
    if ARGS.vmm.endswith('.py'):
        p = env.ctl('shutdown', 'c1')
        check("is being shutdown" in p.stdout, 'shutdown message')
        check(wait_for(lambda: dominfo(env, 'c1').get('State') == 'shut off'), 'shut down')
        check(dominfo(env, 'c1').get('State reason') == 'shutdown', 'reason shutdown')
    else:
        env.ctl('destroy', 'c1')
    env.ctl('autostart', 'c1', '--disable')
    env.ctl('undefine', 'c1')


def test_http(env):
    """two clients at once, malformed requests, limits"""
    # a client that sends half a request does not block anybody else
    slow = socket.socket(socket.AF_UNIX)
    slow.connect(env.sock)
    slow.sendall(b'GET /domains HTTP/1.1\r\nHost: x\r\n')
    check(env.ctl('list', '--all').returncode == 0, 'second client served')
    slow.sendall(b'\r\n')
    slow.settimeout(5)
    check(slow.recv(4096).startswith(b'HTTP/1.1 200'), 'first client served after completing')
    slow.close()
    # pipelined requests on one connection
    out = raw(env, b'GET /domains HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n')
    check(out.count(b'HTTP/1.1 ') == 2 and b'404 Not Found' in out, 'pipelined')
    cases = [
        (b'GARBAGE\r\n\r\n', 400),
        (b'GET /domains HTTP/1.1\n\n', 400),
        (b'BREW /domains HTTP/1.1\r\n\r\n', 501),
        (b'GET /domains HTTP/2.0\r\n\r\n', 505),
        (b'GET /../etc/passwd HTTP/1.1\r\n\r\n', 400),
        (b'POST /domains HTTP/1.1\r\n\r\n', 411),
        (b'POST /domains HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n', 413),
        (b'POST /domains HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 501),
        (b'POST /domains HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx', 400),
        (b'GET /domains HTTP/1.1\r\nX: ' + b'a' * 9000 + b'\r\n\r\n', 431),
        (b'DELETE /domains HTTP/1.1\r\n\r\n', 405),
        (b'GET /domains?x=1 HTTP/1.1\r\n\r\n', 400),
    ]
    for req, want in cases:
        out = raw(env, req)
        got = int(out.split(b' ')[1]) if out.startswith(b'HTTP/1.1 ') else 0
        check(got == want, f'{req[:40]!r}: want {want}, got {out[:80]!r}')
        check(b'"error"' in out, f'{req[:40]!r}: has an error message')
    env.ctl('define', write(env, 'h.xml', domain_xml('h', '/x')))
    for body, want in [('{"autostart":tru', 400), ('{"autostart":true,"x":1}', 400),
                       ('[true]', 400), ('{"autostart":"yes"}', 400), ('{"autostart":false}', 200)]:
        st, j, _ = http('PUT', '/domains/h/autostart', body, env=env)
        check(st == want and (st == 200 or 'error' in j), f'autostart body {body}: {st} {j}')
    st, j, _ = http('POST', '/domains/h/vcpupin', '{"vcpu":0,"cpuset":"0","extra":1}', env=env)
    check(st == 400 and 'unknown field' in j['error'], 'unknown field refused')
    st, j, _ = http('POST', '/domains', '{"name":"x"}', env=env)
    check(st == 415, 'JSON body for a domain refused')
    st, j, _ = http('POST', '/domains/h/start', 'body', env=env)
    check(st == 400, 'action with a body refused')
    out = raw(env, b'HEAD /domains HTTP/1.1\r\nHost: x\r\n\r\n')
    head, _, body = out.partition(b'\r\n\r\n')
    check(head.startswith(b'HTTP/1.1 200') and body == b'' and
          b'Content-Length: ' in head and not head.endswith(b'Content-Length: 0'),
          f'HEAD: {out!r}')
    st, _, payload = http('GET', '/domains/h/xml', env=env)
    check(st == 200 and payload.startswith(b"<domain type='kvm'>"), 'GET xml')
    st, j, _ = http('GET', '/domains', env=env)
    check(st == 200 and [d['name'] for d in j['domains']] == ['h'], 'GET /domains')
    st, j, _ = http('GET', '/switch/ports', env=env)
    check(st == 200 and 'ports' in j, 'GET /switch/ports')
    st, j, _ = http('GET', '/switch/fdb', env=env)
    check(st == 200 and 'fdb' in j, 'GET /switch/fdb')
    st, j, _ = http('GET', '/switch/stats', env=env)
    check(st == 200 and 'ports' in j, 'GET /switch/stats')
    st, j, _ = http('DELETE', '/domains/h', env=env)
    check(st == 200, 'DELETE')
    st, j, _ = http('DELETE', '/domains/h', env=env)
    check(st == 404 and j['error'] == "failed to get domain 'h'", 'DELETE twice')


def console_session(env, name, send=b'', until=b'', timeout=10):
    """Talk to the guest serial through the console socket nfvd reports."""
    path = http('GET', f'/domains/{name}', env=env)[1]['console']
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    if send:
        s.sendall(send)
    out = nt.recv_all(s, until, time.monotonic() + timeout)
    s.close()
    return out


def quit_ping(env):
    """Make the ping guest of the traffic tests power off; returns whether it did within 60 s.
    'x' ends a round still waiting for late answers (a lone 'q' would be eaten there), 'q'
    quits; repeated because a loaded host may still be busy with the round."""
    def once():
        if dominfo(env, 'ping').get('State') != 'running':
            return True
        try:
            console_session(env, 'ping', send=b'xq', timeout=0.2)
        except OSError:
            pass
        return wait_for(lambda: dominfo(env, 'ping').get('State') == 'shut off', 5, 0.5)
    return wait_for(once, 60, 0)


def test_reboot(env):
    """a guest reset (nfv-vmm exit status 5) is a reboot, not a crash: <on_reboot> applies
    (restart by default, as in libvirt), on_crash does not; a reboot loop is bounded"""
    kernel = ARGS.guest or '/nonexistent/guest.elf'
    env.ctl('define', write(env, 'rb.xml', domain_xml('rb', kernel, port_dev='rb-eth0',
                                                     desc='stub:reset-after=0.3')))
    env.ctl('start', 'rb')
    pid = http('GET', '/domains/rb', env=env)[1]['pid']
    check(wait_for(lambda: http('GET', '/domains/rb', env=env)[1]['pid'] not in (0, pid)),
          'the default on_reboot=restart started a new nfv-vmm after the reset')
    env.ctl('destroy', 'rb')
    log = open(os.path.join(env.state, 'logs', 'rb.log')).read()
    check('status 5: rebooted' in log and 'restarting (on_reboot action)' in log,
          f'domain log names the reboot: {log[-600:]}')
    # on_reboot=destroy with on_crash=restart: shut off, reason rebooted, no restart
    env.ctl('define', write(env, 'rb.xml', domain_xml('rb', kernel, port_dev='rb-eth0',
                                                     desc='stub:reset-after=0.3',
                                                     on_reboot='destroy', on_crash='restart')))
    env.ctl('start', 'rb')
    check(wait_for(lambda: dominfo(env, 'rb').get('State') == 'shut off'),
          'on_reboot=destroy: the domain is off after the reset')
    info = dominfo(env, 'rb')
    check(info.get('State reason') == 'rebooted', f'reason rebooted, not crashed: {info}')
    check('rb-eth0' not in env.switch_ports(), 'the reset released the switch port')
    env.ctl('undefine', 'rb')


def test_real_reboot(env):
    """a real guest that resets itself through the i8042 (as Linux's reboot=kbd): nfv-vmm ends
    with status 5, nfvd applies <on_reboot>; a guest that resets at once every time is a reboot
    loop, given up after 5 restarts in a minute"""
    if not ARGS.reset_guest:
        print('test_real_reboot: needs --reset-guest: skipped')
        return
    elf = os.path.abspath(ARGS.reset_guest)
    env.ctl('define', write(env, 'rr.xml', domain_xml('rr', elf, cmdline='reset',
                                                     on_reboot='destroy', on_crash='restart')))
    env.ctl('start', 'rr')
    check(wait_for(lambda: dominfo(env, 'rr').get('State') == 'shut off', 20),
          'on_reboot=destroy: off after the guest reset')
    check(dominfo(env, 'rr').get('State reason') == 'rebooted', 'reason rebooted, not crashed')
    env.ctl('define', write(env, 'rr.xml', domain_xml('rr', elf, cmdline='reset')))
    env.ctl('start', 'rr')
    log = os.path.join(env.state, 'logs', 'rr.log')
    check(wait_for(lambda: 'not restarting' in open(log).read(), 60, 0.2),
          'a reboot loop is given up')
    text = open(log).read()
    check(text.count('restarting (on_reboot action)') == 5 and 'reset line' in text,
          f'five on_reboot restarts of a guest that pulsed the reset line: {text[-800:]}')
    check(dominfo(env, 'rr').get('State') == 'shut off', 'off after the loop')
    env.ctl('undefine', 'rr')


def test_real_guest(env):
    """a freestanding guest under the real nfv-vmm: start, console, stats, nfvd restart, kill -9,
    guest power-off"""
    # hello.elf with 'wait' prints "ready" and runs until it reads 'g' on its serial port
    xml = domain_xml('g1', os.path.abspath(ARGS.guest), port_dev='g1-eth0').replace(
        '</kernel>', '</kernel><cmdline>wait</cmdline>')
    env.ctl('define', write(env, 'g1.xml', xml))
    p = env.ctl('start', 'g1')
    check("Domain 'g1' started" in p.stdout, f'start real guest: {p.stderr}')
    check(dominfo(env, 'g1').get('State') == 'running', 'real guest running')
    # nfv-vmm does not buffer serial output for late clients: "ready" may be gone, but the
    # console socket must accept us
    console_session(env, 'g1', timeout=0.5)
    st, j, _ = http('GET', '/domains/g1/stats', env=env)
    vmm = (j or {}).get('vmm') or {}
    check(st == 200 and vmm.get('state') == 'running' and len(vmm.get('vcpus', [])) == 1,
          f'nfv-vmm info through its control socket: {j}')
    check('VCPU:           0' in env.ctl('vcpuinfo', 'g1').stdout, 'vcpuinfo from nfv-vmm')
    check('g1-eth0' in env.switch_ports(), 'switch port for the guest')
    # nfvd restart: the guest keeps running and is re-adopted
    pid = http('GET', '/domains/g1', env=env)[1]['pid']
    env.stop_nfvd()
    env.start_nfvd()
    j = http('GET', '/domains/g1', env=env)[1]
    check(j['state'] == 'running' and j['pid'] == pid, f're-adopted real nfv-vmm {j}')
    # kill -9: crashed, resources released
    os.kill(pid, signal.SIGKILL)
    check(wait_for(lambda: dominfo(env, 'g1').get('State') == 'crashed'), 'kill -9 is a crash')
    check('g1-eth0' not in env.switch_ports(), 'crash released the port')
    # the guest powers off by itself: exit 0 is a shutdown, not a crash
    env.ctl('start', 'g1')
    p = env.ctl('console', 'g1', input='g')
    check("Connected to domain 'g1'" in p.stdout, 'nfvctl console attaches')
    check(wait_for(lambda: dominfo(env, 'g1').get('State') == 'shut off', 20),
          'guest power-off stops the domain')
    check(dominfo(env, 'g1').get('State reason') == 'shutdown', 'reason shutdown')
    check('g1-eth0' not in env.switch_ports(), 'port released after power-off')
    log = open(os.path.join(env.state, 'logs', 'g1.log')).read()
    check('nfvd: started' in log and 'exit status 0' in log, 'domain log has both sides')
    env.ctl('undefine', 'g1')


def test_real_traffic(env):
    """two virtio-net guests on nfv-switch ports nfvd created: ping/echo, then domifstat. The
    guests share CPU 0 (vcpu cpuset, not exclusive vcpupin): the switch PMD polls on CPU 1."""
    if not env.switch_proc or not ARGS.vnet_guest:
        print('test_real_traffic: needs --switch and --vnet-guest: skipped')
        return
    elf = os.path.abspath(ARGS.vnet_guest)
    echo_mac, ping_mac = '52:54:00:ee:00:01', '52:54:00:ee:00:02'
    # echo halts between frames (idle=1); ping runs a round of 8 frames + 1 broadcast per 'g'
    env.ctl('define', write(env, 'echo.xml', domain_xml(
        'echo', elf, port_dev='echo-eth0', mac=echo_mac, cmdline='role=echo idle=1', cpuset='0')))
    env.ctl('define', write(env, 'ping.xml', domain_xml(
        'ping', elf, port_dev='ping-eth0', mac=ping_mac, cpuset='0',
        cmdline=f'role=ping peer={echo_mac} count=8')))
    env.ctl('start', 'echo')
    env.ctl('start', 'ping')
    time.sleep(1)  # the guests find their link

    def echo_rx():
        p = env.ctl('domifstat', 'echo', 'echo-eth0')
        return {l.split()[1]: int(l.split()[2]) for l in p.stdout.splitlines() if l.strip()}
    console_session(env, 'ping', send=b'g', timeout=0.5)
    check(wait_for(lambda: echo_rx().get('tx_packets', 0) >= 9 and
                   echo_rx().get('rx_packets', 0) >= 9, ARGS.traffic_timeout, 0.5),
          'a round of frames went through the switch')
    p = env.ctl('switch', 'fdb')
    check(echo_mac in p.stdout and ping_mac in p.stdout and ' 10  ' in p.stdout,
          f'switch learned both MACs on VLAN 10:\n{p.stdout}')
    check_unprivileged(env, ('echo', 'ping'))
    # nfv-switch killed under the guests and started again, empty: nfvd re-creates the ports,
    # the unprivileged VMMs reconnect (the sockets were handed to their user), a new round goes
    # through; the VMMs' counters continue while the new switch's start from zero
    before = echo_rx()
    env.kill_switch()
    env.start_switch()
    check(wait_for(lambda: {'echo-eth0', 'ping-eth0'} <= set(env.switch_ports()), 10, 0.2),
          f'nfvd re-created both ports on the restarted switch: {env.switch_ports()}')
    check(wait_for(lambda: all(p['link'] == 'up' for n, p in env.switch_ports().items()
                               if n in ('echo-eth0', 'ping-eth0')), 30, 0.2),
          f'both unprivileged VMMs reconnected: {env.switch_ports()} '
          f'{[open(os.path.join(env.state, "logs", f"{d}.log")).read()[-600:] for d in ("echo", "ping")]}')
    ping_log = os.path.join(env.state, 'logs', 'ping.log')

    def rounds():
        return [(int(a), int(b), int(c)) for a, b, c in
                re.findall(r'round (\d+) sent (\d+) got (\d+)', open(ping_log).read())]
    console_session(env, 'ping', send=b'g', timeout=0.5)
    check(wait_for(lambda: any(r[0] >= 2 and r[2] >= 9 for r in rounds()),
                   ARGS.traffic_timeout, 0.5),
          f'the ping guest\'s next round got every answer through the restarted switch: '
          f'{rounds()}')
    sw = {p['name']: p for p in env.switch_call({'cmd': 'stats'})['ports']}
    got = sum(r[2] for r in rounds())
    check(9 <= sw['echo-eth0']['tx_packets'] < got,
          f'the restarted switch counts from zero (echo-eth0 tx {sw["echo-eth0"]["tx_packets"]}, '
          f'before the restart {before.get("rx_packets")}) while the guest\'s count continues '
          f'({got} answers in all)')
    log = open(os.path.join(env.tmp, 'nfvd.log')).read()
    check("re-created switch port 'echo-eth0'" in log, 'nfvd logged the re-created port')
    check(quit_ping(env), 'ping guest powered off on q')
    check(dominfo(env, 'ping').get('State reason') == 'shutdown', 'ping guest powered off')
    p = env.ctl('domifstat', 'echo', 'echo-eth0')
    stats = {l.split()[1]: int(l.split()[2]) for l in p.stdout.splitlines() if l.strip()}
    check(stats.get('rx_packets', 0) >= 9 and stats.get('tx_packets', 0) >= 9,
          f'domifstat after traffic: {stats}')
    env.ctl('destroy', 'echo')
    for n in ('echo', 'ping'):
        env.ctl('undefine', n)


def check_unprivileged(env, names):
    """Each running domain's nfv-vmm has dropped to nfvd's default VMM user ('nfvisor', created
    by tools/setup): all uids/gids, no capabilities, no new privileges, seccomp filter mode; the
    switch sockets nfvd created belong to that user."""
    try:
        pw = pwd.getpwnam('nfvisor')
    except KeyError:
        log = open(os.path.join(env.tmp, 'nfvd.log')).read()
        check("no user 'nfvisor'" in log, 'without the nfvisor user nfvd warns that nfv-vmm stays root')
        print("no user 'nfvisor' (tools/setup creates it): unprivileged checks skipped")
        return
    for n in names:
        pid = http('GET', f'/domains/{n}', env=env)[1]['pid']
        st = nt.proc_status(pid)
        uids, gids = st['Uid'].split(), st['Gid'].split()
        check(uids == [str(pw.pw_uid)] * 4 and gids == [str(pw.pw_gid)] * 4,
              f'{n}: nfv-vmm runs as nfvisor (Uid {uids}, Gid {gids})')
        check(st['CapEff'].strip() == '0' * 16 and st['NoNewPrivs'].strip() == '1' and
              st['Seccomp'].strip() == '2',
              f'{n}: no capabilities, NoNewPrivs, seccomp filter: {st["CapEff"]} '
              f'{st["NoNewPrivs"]} {st["Seccomp"]}')
        sock = os.path.join(env.run, f'{n}-eth0.sock')
        m = os.stat(sock)
        check(m.st_uid == pw.pw_uid and m.st_mode & 0o777 == 0o660,
              f'{sock} belongs to nfvisor, mode 0660: uid {m.st_uid} mode {oct(m.st_mode)}')


def iface_chunk(xml, needle):
    """The <interface> element of @xml that mentions @needle ('' when none does)."""
    for chunk in xml.split('<interface')[1:]:
        chunk = chunk.split('</interface>')[0]
        if needle in chunk:
            return chunk
    return ''


def ifstat(env, dom, port):
    p = env.ctl('domifstat', dom, port)
    return {l.split()[1]: int(l.split()[2]) for l in p.stdout.splitlines() if l.strip()}


def ovs_guest_view(st):
    """OVS Interface statistics as the guest sees them (nfvctl domifstat's convention)."""
    return {'rx_bytes': st.get('tx_bytes', 0), 'rx_packets': st.get('tx_packets', 0),
            'rx_errs': st.get('tx_errors', 0), 'rx_drop': st.get('tx_dropped', 0),
            'tx_bytes': st.get('rx_bytes', 0), 'tx_packets': st.get('rx_packets', 0),
            'tx_errs': st.get('rx_errors', 0), 'tx_drop': st.get('rx_dropped', 0)}


def test_ovs_backend(env):
    """OVS-DPDK ports for <source bridge|network='ovsnet'>: dpdkvhostuserclient ports with VLAN
    tag/trunks, nfv-vmm as vhost-user server in the live XML, counters through domifstat, ports
    removed on destroy, on a crash after an nfvd restart and on a failed start; an nfv-switch
    interface of the same domain stays on nfv-switch"""
    ovs = env.ovs
    kernel = ARGS.guest or '/nonexistent/guest.elf'
    more = ("<interface type='network'><mac address='52:54:00:0a:00:02'/>"
            "<source network='ovsnet'/><vlan trunk='yes'><tag id='20' nativeMode='untagged'/>"
            "<tag id='30'/><tag id='40'/></vlan><target dev='o1-trunk'/>"
            "<model type='virtio'/></interface>"
            "<interface type='bridge'><mac address='52:54:00:0a:00:03'/>"
            "<source bridge='nfv-switch'/><target dev='o1-sw'/><model type='virtio'/>"
            "</interface>")
    env.ctl('define', write(env, 'o1.xml', domain_xml('o1', kernel, port_dev='o1-eth0',
                                                     bridge='ovsnet', extra_dev=more)))
    p = env.ctl('start', 'o1')
    check("Domain 'o1' started" in p.stdout, f'start with OVS ports: {p.stderr}')
    check(sorted(ovs.ports()) == ['o1-eth0', 'o1-trunk'], f'OVS ports: {ovs.ports()}')
    check(ovs.get('Interface', 'o1-eth0', 'type') == 'dpdkvhostuserclient', 'interface type')
    path = ovs.get('Interface', 'o1-eth0', 'options:vhost-server-path').strip('"')
    check(path == os.path.join(env.run, 'o1-eth0.sock'), f'vhost-server-path {path}')
    check(ovs.get('Port', 'o1-eth0', 'tag') == '10' and
          ovs.get('Port', 'o1-eth0', 'trunks') == '[]', 'access port on VLAN 10')
    vm, tag, tr = (ovs.get('Port', 'o1-trunk', c) for c in ('vlan_mode', 'tag', 'trunks'))
    check((vm, tag, tr) == ('native-untagged', '20', '[30, 40]'), f'trunk port: {vm} {tag} {tr}')
    sw = env.switch_ports()
    check('o1-sw' in sw and 'o1-eth0' not in sw and 'o1-trunk' not in sw,
          f'nfv-switch got only its own port: {sorted(sw)}')
    live = open(os.path.join(env.run, 'o1.xml')).read()
    o, n = iface_chunk(live, 'o1-eth0.sock'), iface_chunk(live, 'o1-sw.sock')
    check("type='vhostuser'" in live and "mode='server'" in o and '<reconnect' not in o,
          f'OVS interface: nfv-vmm is the vhost-user server:\n{o}')
    check("mode='client'" in n, f'nfv-switch interface stays a client:\n{n}')
    p = env.ctl('domiflist', 'o1')
    check(' o1-eth0 ' in p.stdout and 'ovsnet' in p.stdout, f'domiflist:\n{p.stdout}')
    _, j, _ = http('GET', '/domains/o1/stats', env=env)
    ifs = {i['interface']: i for i in (j or {}).get('interfaces', [])}
    check(ifs.get('o1-eth0', {}).get('backend') == 'ovs' and ifs['o1-eth0']['switch_port'],
          f'stats name the OVS backend: {j}')
    check(ifs.get('o1-sw', {}).get('switch_port') is True, 'nfv-switch port in the same stats')
    check(wait_for(lambda: ifstat(env, 'o1', 'o1-eth0') ==
                   ovs_guest_view(ovs.stats('o1-eth0')), 15, 0.5),
          f"domifstat {ifstat(env, 'o1', 'o1-eth0')} = OVS {ovs.stats('o1-eth0')}")
    p = env.ctl('destroy', 'o1')
    check(ovs.ports() == [], f'destroy removed the OVS ports: {ovs.ports()}')
    check('o1-sw' not in env.switch_ports(), 'destroy removed the nfv-switch port')

    # the runtime record says which ports are OVS's: a crash after an nfvd restart cleans up
    env.ctl('start', 'o1')
    pid = http('GET', '/domains/o1', env=env)[1]['pid']
    env.stop_nfvd()
    env.start_nfvd()
    check(http('GET', '/domains/o1', env=env)[1].get('pid') == pid, 're-adopted')
    check(len(ovs.ports()) == 2, 'OVS ports kept across an nfvd restart')
    os.kill(pid, signal.SIGKILL)
    check(wait_for(lambda: dominfo(env, 'o1').get('State') == 'crashed'), 'crash recorded')
    check(ovs.ports() == [] and 'o1-sw' not in env.switch_ports(),
          f'crash released OVS and nfv-switch ports: {ovs.ports()}')

    # a start that fails halfway (the second port's name is taken in OVS) leaves nothing
    ovs.vsctl('--no-wait', 'add-port', OVS_BRIDGE, 'o1-trunk', '--', 'set', 'Interface',
              'o1-trunk', 'type=dpdkvhostuserclient')
    p = env.ctl('start', 'o1', ok=False)
    check("cannot create OVS port 'o1-trunk'" in p.stderr, f'failed start says why: {p.stderr}')
    check(ovs.ports() == ['o1-trunk'], f'first OVS port removed again: {ovs.ports()}')
    check('o1-sw' not in env.switch_ports(), 'no nfv-switch port left')
    ovs.vsctl('del-port', 'o1-trunk')

    # a network whose bridge does not exist is refused before anything is created
    env.stop_nfvd()
    env.start_nfvd(extra=['--network', f'nobr=ovs:br-missing,db={ovs.db}'])
    env.ctl('define', write(env, 'o2.xml', domain_xml('o2', kernel, port_dev='o2-eth0',
                                                     bridge='nobr')))
    p = env.ctl('start', 'o2', ok=False)
    check("OVS has no bridge 'br-missing'" in p.stderr, f'missing bridge: {p.stderr}')
    check(ovs.ports() == [], 'nothing created for a missing bridge')
    for name in ('o1', 'o2'):
        env.ctl('undefine', name)


def test_ovs_traffic(env):
    """the two-guest test of test_real_traffic over OVS-DPDK: echo and ping vnet guests on
    dpdkvhostuserclient ports of a netdev bridge (VLAN 10 access ports), nfv-vmm the vhost-user
    server; the ping guest reports its round, domifstat shows OVS's counters"""
    if not ARGS.vnet_guest:
        print('test_ovs_traffic: needs --vnet-guest: skipped')
        return
    ovs = env.ovs
    elf = os.path.abspath(ARGS.vnet_guest)
    echo_mac, ping_mac = '52:54:00:ee:00:01', '52:54:00:ee:00:02'
    env.ctl('define', write(env, 'echo.xml', domain_xml(
        'echo', elf, port_dev='echo-eth0', mac=echo_mac, cmdline='role=echo idle=1', cpuset='0',
        bridge='ovsnet')))
    env.ctl('define', write(env, 'ping.xml', domain_xml(
        'ping', elf, port_dev='ping-eth0', mac=ping_mac, cpuset='0', bridge='ovsnet',
        cmdline=f'role=ping peer={echo_mac} count=8')))
    env.ctl('start', 'echo')
    env.ctl('start', 'ping')
    check(sorted(ovs.ports()) == ['echo-eth0', 'ping-eth0'], f'OVS ports {ovs.ports()}')
    # OVS connects to nfv-vmm's sockets (retrying each second) and then adds the ports to its
    # datapath: wait until both links are up
    check(wait_for(lambda: all(ovs.get('Interface', p, 'link_state') == 'up'
                               for p in ('echo-eth0', 'ping-eth0')), 60, 0.5),
          'OVS connected to both guests')
    time.sleep(1)  # the guests find their link
    console_session(env, 'ping', send=b'g', timeout=0.5)
    # the guest reports through nfv-vmm's test port, which nfv-vmm writes to the domain log
    ping_log = os.path.join(env.state, 'logs', 'ping.log')
    m = wait_for(lambda: re.search(r'round 1 sent (\d+) got (\d+)', open(ping_log).read()),
                 ARGS.traffic_timeout, 0.5)
    check(m and m.group(1) == '9' and m.group(2) == '9',
          f'ping guest: a round of 9 frames answered through OVS: {m and m.group(0)}')
    check(wait_for(lambda: ifstat(env, 'echo', 'echo-eth0').get('rx_packets', 0) >= 9 and
                   ifstat(env, 'echo', 'echo-eth0').get('tx_packets', 0) >= 9,
                   ARGS.traffic_timeout, 0.5),
          f"OVS counted the round: {ifstat(env, 'echo', 'echo-eth0')}")
    fdb = ovs.appctl('fdb/show', OVS_BRIDGE)
    check(all(re.search(rf'\s10\s+{mac}\s', fdb) for mac in (echo_mac, ping_mac)),
          f'OVS learned both MACs on VLAN 10 (the access tag nfvd set):\n{fdb}')
    # nfvctl domifstat and OVS's own Interface statistics agree (OVS refreshes the column every
    # 5 s; read while both guests are up: OVS 3.1 restarts a vhost port's counters when its
    # vhost-user connection is re-established)
    def agree():
        st = ifstat(env, 'echo', 'echo-eth0')
        return (st == ovs_guest_view(ovs.stats('echo-eth0')) and st['rx_packets'] >= 9 and
                st['tx_packets'] >= 9 and st['rx_bytes'] >= 9 * 60)
    check(wait_for(agree, 20, 1),
          f"domifstat {ifstat(env, 'echo', 'echo-eth0')} = OVS {ovs.stats('echo-eth0')}")
    check(quit_ping(env), 'ping guest powered off on q')
    check(dominfo(env, 'ping').get('State reason') == 'shutdown', 'ping guest powered off')
    check(ovs.ports() == ['echo-eth0'], f'power-off removed the ping port: {ovs.ports()}')
    env.ctl('destroy', 'echo')
    check(ovs.ports() == [], 'destroy removed the echo port')
    for n in ('echo', 'ping'):
        env.ctl('undefine', n)


def run_tests(tests, names, fixture=lambda env: ((), ())):
    """Run each test function of @tests (those named in @names when it is not empty) in a fresh
    Env with nfvd started: fixture(env) returns (more nfvd options, more arguments for the test
    after env). An exception fails its test and the next one runs; on a failure the tail of
    nfvd's log is printed. Returns the exit status: 1 on any failure, 77 when OVS cannot start."""
    nt.report_style(ok_lines=False, timestamps=False)   # only failures are printed
    for t in tests:
        if names and t.__name__ not in names:
            continue
        try:
            env = Env()
        except Skip as e:
            print(f'SKIP: {e}', flush=True)
            return 77
        try:
            nfvd_extra, targs = fixture(env)
            env.start_nfvd(extra=nfvd_extra)
            t0 = time.monotonic()
            t(env, *targs)
            print(f'{t.__name__}: {"ok" if not FAILS else "FAILED"} '
                  f'({time.monotonic() - t0:.1f}s)', flush=True)
        except Exception as e:  # report and go on with a fresh environment
            check(False, f'{t.__name__}: {type(e).__name__}: {e}')
        finally:
            if FAILS:
                print(open(os.path.join(env.tmp, 'nfvd.log')).read()[-3000:])
            env.close()
    return 1 if FAILS else 0


TESTS = [test_lifecycle, test_define_errors, test_start_failures, test_crash_and_restart,
         test_reboot, test_http]


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument('--nfvd', required=True)
    ap.add_argument('--nfvctl', required=True)
    ap.add_argument('--vmm', required=True, help='nfv-vmm binary or stub_vmm.py')
    ap.add_argument('--switch', help='nfv-switch binary (default: in-process stand-in)')
    ap.add_argument('--guest', help='guest ELF for the real nfv-vmm (hello.elf)')
    ap.add_argument('--vnet-guest', help='virtio-net traffic guest (vnet.elf)')
    ap.add_argument('--reset-guest', help="guest that resets itself with args 'reset' (faults.elf)")
    ap.add_argument('--traffic-timeout', type=float, default=120)
    ap.add_argument('--switch-args', default='', help='extra nfv-switch options (--power-mode)')
    ap.add_argument('--ovs', help='ovs-vswitchd-dpdk binary: run the OVS backend tests')
    ap.add_argument('tests', nargs='*')
    ARGS = ap.parse_args()
    if not ARGS.vmm.endswith('.py'):
        helptext = subprocess.run([ARGS.vmm, '--help'], capture_output=True, text=True)
        if '--domain' not in helptext.stdout + helptext.stderr:
            print(f'{ARGS.vmm} has no --domain option yet: skipped')
            return 77
        if not os.access('/dev/kvm', os.R_OK | os.W_OK) or not ARGS.guest:
            print('needs /dev/kvm and --guest: skipped')
            return 77
    tests = TESTS if ARGS.vmm.endswith('.py') else [test_real_guest, test_real_reboot,
                                                       test_real_traffic]
    if ARGS.ovs:
        tests = [test_ovs_backend] if ARGS.vmm.endswith('.py') else [test_ovs_traffic]
    return run_tests(tests, ARGS.tests)


if __name__ == '__main__':
    sys.exit(main())
