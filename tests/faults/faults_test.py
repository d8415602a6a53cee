#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Fault injection against the real binaries: each case injects one fault and shows that nothing
that was promised is lost (docs/security.md, "Faults").

  switch_restart  nfv-switch is killed (SIGKILL) under traffic and started again: the vhost-user
                  peers (dpdk-testpmd virtio_user in server mode, standing in for guests) keep
                  running, their links come back, the new switch's counters start at zero while
                  the peers' counters continue, and frames flow again. tests/guest/vnet.c
                  'restart' does the same with two real VMs.
  slow_peer       one vhost-user peer stops reading: the switch drops and counts for that port
                  only (drop_queue_full), another port on the same flood keeps receiving.
  hugepages       nfv-vmm --mem-backing hugetlbfs with more RAM than the host has hugepages:
                  status 2 and a clear message before anything is created (no control socket,
                  no serial socket, no hugetlbfs file).
  disk_full       nfvd's state directory on a full tmpfs: a define that cannot be written fails
                  with an error, the old definition file is unchanged, no temporary file is left,
                  nfvd keeps answering; once there is room the same define succeeds.
  vmm_crash       nfvd supervising the real nfv-vmm: kill -9 is recorded as a crash, the switch
                  port is released, on_crash=restart starts a new nfv-vmm with its port.

usage: faults_test.py --switch BIN --ctl BIN --testpmd BIN --vmm BIN --guest hello.elf
                      --nfvd BIN --nfvctl BIN [case ...]
A case whose programs were not given or cannot run here is skipped; exit 77 if all were.
"""
import argparse
import glob
import os
import signal
import subprocess
import sys
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import nfvtest as nt  # noqa: E402
from nfvtest import check, skip  # noqa: E402

ARGS = None


# ---------------------------------------------------------------------------------------------


def case_switch_restart(tmp):
    if not (ARGS.switch and ARGS.testpmd):
        return skip('switch_restart needs --switch and --testpmd')

    def add_ports(sw):
        for n in 'ab':
            sw.ok(cmd='port-add', name=n, type='vhost-user', path=f'{tmp}/{n}.sock', mode='client')
        sw.ok(cmd='fdb-add', mac=nt.mac(0xb), vlan=0, port='b')
    # The peers are servers (as nfv-vmm is in server mode): they outlive the switch and wait
    # for it. A server-mode virtio_user finishes its start-up only once the switch connected, so
    # the switch (client ports, retrying) comes first.
    sw = nt.Switch(ARGS.switch, tmp)
    add_ports(sw)
    tb = nt.TestPmd(ARGS.testpmd, [nt.vu(f'{tmp}/b.sock', nt.mac(0xb), server=True)], 'rxonly')
    ta = nt.TestPmd(ARGS.testpmd, [nt.vu(f'{tmp}/a.sock', nt.mac(0xa), server=True)], 'txonly',
                    [f'--eth-peer=0,{nt.mac(0xb)}'])
    check(sw.wait_link('a', 'up', 30) and sw.wait_link('b', 'up', 30), 'links up')
    tb.start()
    ta.start()
    time.sleep(0.5)
    before = sw.stats('a')['rx_packets']
    check(before > 0, f'traffic flows before the fault ({before} frames)')
    sw.p.kill()     # under traffic, no goodbye
    sw.p.wait()
    time.sleep(0.5)
    check(ta.p.poll() is None and tb.p.poll() is None, 'peers keep running without the switch')
    ta.stop()
    tx1 = ta.stats()[0]['tx_packets']
    ta.start()
    sw2 = nt.Switch(ARGS.switch, tmp)
    add_ports(sw2)
    check(sw2.wait_link('a', 'up', 30) and sw2.wait_link('b', 'up', 30), 'links come back')
    fresh = sw2.stats('a')['rx_packets']
    time.sleep(1.0)
    ta.stop()
    nt.settle(sw2, 'ab')
    tb.stop()
    tx2 = ta.stats()[0]['tx_packets']
    sa, sb = sw2.stats('a'), sw2.stats('b')
    # The new switch saw only frames sent after the restart, plus at most one ring (256, the
    # virtio_user default) that the peer queued while no switch was there: its counters start
    # clean, they do not continue the old switch's.
    ring = 256
    check(sa['rx_packets'] <= tx2 - tx1 + ring,
          f'restarted switch counters start clean ({sa["rx_packets"]} <= {tx2} - {tx1} + {ring})')
    check(fresh <= tx2 - tx1 + ring, f'... also right after the links came back ({fresh})')
    check(tx2 > tx1, f'peer counters continue ({tx1} -> {tx2})')
    check(sa['rx_packets'] > 0, f'frames flow again: switch rx {sa["rx_packets"]}')
    check(sb['tx_packets'] > 0, f'and reach b ({sb["tx_packets"]})')
    check(sw2.alive(), 'restarted switch alive')
    ta.close()
    tb.close()
    sw2.stop()


def case_slow_peer(tmp):
    if not (ARGS.switch and ARGS.testpmd):
        return skip('slow_peer needs --switch and --testpmd')
    sw = nt.Switch(ARGS.switch, tmp)
    for n in 'abc':
        sw.ok(cmd='port-add', name=n, type='vhost-user', path=f'{tmp}/{n}.sock')
    # a floods broadcasts to b and c; b's testpmd never polls (a peer that stopped reading), c
    # keeps reading. a sends paced rounds (start tx_first: 2 bursts of 32, then stop) so that
    # c, which keeps up, loses nothing and the only drops are b's.
    tb = nt.TestPmd(ARGS.testpmd, [nt.vu(f'{tmp}/b.sock', nt.mac(0xb))], 'rxonly')
    tc = nt.TestPmd(ARGS.testpmd, [nt.vu(f'{tmp}/c.sock', nt.mac(0xc))], 'rxonly')
    ta = nt.TestPmd(ARGS.testpmd, [nt.vu(f'{tmp}/a.sock', nt.mac(0xa))], 'rxonly',
                    ['--eth-peer=0,ff:ff:ff:ff:ff:ff'])
    check(all(sw.wait_link(n) for n in 'abc'), 'links up')
    tc.start()
    rounds = 40
    b_mid = c_mid = None
    for r in range(rounds):
        ta.cmd('start tx_first 2')
        time.sleep(0.05)
        ta.stop()
        if r == rounds // 2:
            nt.settle(sw, 'abc')
            b_mid, c_mid = sw.stats('b'), sw.stats('c')['tx_packets']
    nt.settle(sw, 'abc')
    tc.stop()
    sa, sb, sc = sw.stats('a'), sw.stats('b'), sw.stats('c')
    sent = ta.stats()[0]['tx_packets']
    check(sa['rx_packets'] == sent > 0, f'switch got every frame a sent ({sa["rx_packets"]} of {sent})')
    check(sb['drop_queue_full'] > 0, f'stalled port b drops and counts ({sb["drop_queue_full"]})')
    check(sb['drop_queue_full'] > b_mid['drop_queue_full'], 'b keeps counting while stalled')
    check(sb['tx_packets'] + sb['drop_queue_full'] == sa['rx_packets'],
          f'every flood frame is either sent to b or counted as b\'s drop: {sb}')
    check(sc['tx_packets'] > c_mid > 0, f'c keeps receiving ({c_mid} -> {sc["tx_packets"]})')
    check(sc['tx_packets'] == sa['rx_packets'] and sc['drop_queue_full'] == 0,
          f'c loses nothing while b is stalled: {sc}')
    pc = tc.stats()[0]
    check(pc['rx_packets'] == sc['tx_packets'], f'c\'s peer got what the switch sent ({pc})')
    check(sw.alive(), 'switch alive')
    for t in (ta, tb, tc):
        t.close()
    sw.stop()


def case_hugepages(tmp):
    if not (ARGS.vmm and ARGS.guest):
        return skip('hugepages needs --vmm and --guest')
    if not os.path.ismount('/dev/hugepages'):
        return skip('no hugetlbfs at /dev/hugepages')
    total = nt.meminfo('HugePages_Total')
    hp_kib = nt.meminfo('Hugepagesize') or 2048
    want_mib = (total + 16) * hp_kib // 1024
    before = set(os.listdir('/dev/hugepages'))
    ctl, ser, log = f'{tmp}/vmm.ctl', f'{tmp}/serial.sock', f'{tmp}/vmm.log'
    p = subprocess.run([ARGS.vmm, '--kernel', ARGS.guest, '--memory', f'{want_mib}M',
                        '--mem-backing', 'hugetlbfs', '--control', ctl, '--serial', f'unix:{ser}',
                        '--log-file', log], capture_output=True, text=True, timeout=60)
    text = open(log).read() if os.path.exists(log) else p.stderr
    nt.log(f'nfv-vmm with {want_mib} MiB on {total} hugepages: rc {p.returncode}\n{text.strip()}')
    check(p.returncode == 2, f'configuration error status 2 (rc {p.returncode})')
    check('guest RAM' in text and ('hugetlbfs' in text or 'hugepage' in text),
          'the message names guest RAM and the hugepage backing')
    check(not os.path.exists(ctl) and not os.path.exists(ser),
          'no control or serial socket was created')
    left = set(os.listdir('/dev/hugepages')) - before
    check(not [f for f in left if f.startswith('nfv-')], f'no hugetlbfs file left: {left}')


def nfvd_start(tmp, state):
    """nfvd on state directory @state with an in-process switch; returns its environment (sock,
    run, state, p, fake, tmp)."""
    run = os.path.join(tmp, 'run')
    os.makedirs(run, exist_ok=True)
    fake = nt.FakeSwitch(os.path.join(run, 'switch.sock'))
    p = nt.start_logged(nt.nfvd_cmd(ARGS.nfvd, state, run, ARGS.vmm or '/nonexistent',
                                    ['--no-autostart']), os.path.join(tmp, 'nfvd.log'))
    env = types.SimpleNamespace(sock=os.path.join(run, 'nfvd.sock'), run=run, state=state, p=p,
                                fake=fake, tmp=tmp)
    check(nt.wait_for(lambda: os.path.exists(env.sock), 10), 'nfvd up')
    return env


def nfvd_stop(env):
    nt.stop(env.p, timeout=10)
    env.fake.close()
    if os.path.exists(env.fake.path):
        os.unlink(env.fake.path)


def ctl(env, *args):
    return subprocess.run([ARGS.nfvctl, '-c', env.sock, *args], capture_output=True, text=True,
                          timeout=60)


def case_disk_full(tmp):
    if not (ARGS.nfvd and ARGS.nfvctl):
        return skip('disk_full needs --nfvd and --nfvctl')
    state = os.path.join(tmp, 'state')
    os.makedirs(state)
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=512k,mode=0755', 'nfvfull', state]).returncode:
        return skip('cannot mount a tmpfs')
    env = None
    try:
        env = nfvd_start(tmp, state)
        xml = os.path.join(tmp, 'd.xml')

        def define(name, desc):
            with open(xml, 'w') as f:
                f.write(nt.domain_xml(name, '/nonexistent/guest.elf', desc=desc))
            return ctl(env, 'define', xml)
        r = define('d0', 'the first definition')
        check(r.returncode == 0, f'define d0: {r.stdout}{r.stderr}')
        path = os.path.join(state, 'domains', 'd0.xml')
        old = open(path, 'rb').read()
        # fill the file system to the last block
        filler = os.path.join(state, 'filler')
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b'\0' * 4096)
        except OSError:
            pass
        os.close(fd)
        r = define('d0', 'x' * 20000)
        check(r.returncode != 0, f'redefine on a full disk fails: {r.stderr.strip()}')
        check(open(path, 'rb').read() == old, 'the old definition file is unchanged')
        r = define('d1', 'a new domain')
        check(r.returncode != 0, f'a new define on a full disk fails: {r.stderr.strip()}')
        check(not os.path.exists(os.path.join(state, 'domains', 'd1.xml')), 'no d1.xml')
        tmps = glob.glob(os.path.join(state, 'domains', '*.tmp*'))
        check(not tmps, f'no temporary files left: {tmps}')
        r = ctl(env, 'dumpxml', 'd0')
        check(r.returncode == 0 and 'the first definition' in r.stdout, 'nfvd serves the old d0')
        r = ctl(env, 'list', '--all')
        check(r.returncode == 0 and 'd0' in r.stdout and 'd1' not in r.stdout,
              f'list: only d0\n{r.stdout}')
        os.unlink(filler)
        r = define('d0', 'x' * 20000)
        check(r.returncode == 0, f'with room again the redefine succeeds: {r.stderr.strip()}')
        check(b'x' * 20000 in open(path, 'rb').read(), 'and is on disk')
        check(env.p.poll() is None, 'nfvd alive')
        # restart from that state: the definitions survive
        nfvd_stop(env)
        env = nfvd_start(tmp, state)
        r = ctl(env, 'dumpxml', 'd0')
        check(r.returncode == 0 and 'x' * 100 in r.stdout, 'definition survives an nfvd restart')
    finally:
        if env:
            nfvd_stop(env)
        subprocess.run(['umount', '-l', state])


def case_vmm_crash(tmp):
    if not (ARGS.nfvd and ARGS.nfvctl and ARGS.vmm and ARGS.guest):
        return skip('vmm_crash needs --nfvd, --nfvctl, --vmm and --guest')
    env = nfvd_start(tmp, os.path.join(tmp, 'state'))
    pids = []
    try:
        xml = os.path.join(tmp, 'c.xml')
        with open(xml, 'w') as f:
            f.write(nt.domain_xml('c1', os.path.abspath(ARGS.guest), port_dev='c1-eth0',
                                  on_crash='restart').replace(
                '</kernel>', '</kernel><cmdline>wait</cmdline>'))
        r = ctl(env, 'define', xml)
        check(r.returncode == 0, f'define: {r.stderr}')
        r = ctl(env, 'start', 'c1')
        check(r.returncode == 0, f'start: {r.stderr}')

        def info():
            return nt.http('GET', '/domains/c1', env=env)[1] or {}
        pid = info().get('pid')
        pids.append(pid)
        check(pid and 'c1-eth0' in env.fake.ports, f'running under the real nfv-vmm (pid {pid})')
        check(nt.wait_for(lambda: 'Seccomp:\t2' in open(f'/proc/{pid}/status').read(), 10),
              'nfvd-started nfv-vmm runs confined (seccomp on by default)')
        os.kill(pid, signal.SIGKILL)
        check(nt.wait_for(lambda: info().get('pid') not in (None, 0, pid) and
                          info().get('state') == 'running', 20),
              f'on_crash=restart: a new nfv-vmm ({info()})')
        pids.append(info().get('pid'))
        check('c1-eth0' in env.fake.ports, 'its port is back')
        log = open(os.path.join(env.state, 'logs', 'c1.log')).read()
        check('on_crash' in log, 'the domain log records the crash restart')
        r = ctl(env, 'destroy', 'c1')
        check(r.returncode == 0, 'destroy')
        check(nt.wait_for(lambda: 'c1-eth0' not in env.fake.ports, 10), 'port released')
    finally:
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except (OSError, TypeError):
                pass
        nfvd_stop(env)


CASES = {'switch_restart': case_switch_restart, 'slow_peer': case_slow_peer,
         'hugepages': case_hugepages, 'disk_full': case_disk_full, 'vmm_crash': case_vmm_crash}


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    for o in ('switch', 'ctl', 'testpmd', 'vmm', 'guest', 'nfvd', 'nfvctl'):
        ap.add_argument('--' + o)
    ap.add_argument('cases', nargs='*')
    ARGS = ap.parse_args()
    if os.geteuid() != 0:
        print('needs root: skipped')
        return 77
    names = ARGS.cases or list(CASES)
    nt.run_cases(CASES, names, 'nfv-fault-', logs=('switch.log',))
    return nt.exit_status(len(names))


if __name__ == '__main__':
    sys.exit(main())
