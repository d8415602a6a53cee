#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Bounded load tests against the real daemons (loopback and UNIX sockets only; suite 'slow').

  switch_soak  nfv-switch with 2 PMDs and 32 vhost-user ports (16 on VLAN 10, 16 on VLAN 20),
               dpdk-testpmd virtio_user peers, for --seconds (default 60): the VLAN 10 peers send
               with source and destination MACs churned at random (learning, moves, unknown
               unicast floods) while the VLAN 20 peers stay silent; then the roles swap. Checks:
               no frame ever reaches a port of the other VLAN (switch and peer counters), the
               switch's RSS stays flat after warm-up (sampled every 2 s), the FDB stays within
               its limit and only holds MACs on ports of their own VLAN, every frame is
               accounted for, the switch stays alive and answers.
  nfvd_load    nfvd with 50 defined domains (stub VMM) and 8 concurrent API clients for
               --seconds / 2: reads, redefines, start/destroy cycles. Checks: every reply is one
               the API promises, no client hangs, nfvd's RSS and fd count stay flat, all 50
               definitions are intact at the end and after an nfvd restart.

usage: soak_test.py --switch BIN --ctl BIN --testpmd BIN --nfvd BIN --nfvctl BIN
                    --stub-vmm tests/mgmt/stub_vmm.py [--seconds N] [case ...]
"""
import argparse
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import nfvtest as nt  # noqa: E402
from nfvtest import check, skip  # noqa: E402

ARGS = None
NPORTS = 32
# RSS may grow by this much after warm-up before it counts as a leak: DPDK touches mempool and
# ring pages lazily; a per-frame or per-MAC leak over a soak is far larger.
RSS_SLACK_KIB = 16 * 1024


def rand_mac(rng):
    # locally administered unicast
    return '02:%02x:%02x:%02x:%02x:%02x' % tuple(rng.randrange(256) for _ in range(5))


def case_switch_soak(tmp):
    if not (ARGS.switch and ARGS.testpmd):
        return skip('switch_soak needs --switch and --testpmd')
    rng = random.Random(1234)   # deterministic churn sequence
    sw = nt.Switch(ARGS.switch, tmp, lcores=('--lcores', '0@0,1@1,2@1'),
                   pmd_args=['--pmd-cores', '1,2'])
    vlan = {}
    for i in range(NPORTS):
        vlan[f'p{i}'] = 10 if i % 2 == 0 else 20
        sw.ok(cmd='port-add', name=f'p{i}', type='vhost-user', path=f'{tmp}/p{i}.sock',
              vlan_mode='access', vlan=vlan[f'p{i}'])
    pmds = {p['pmd'] for p in sw.ok(cmd='port-list')['ports']}
    check(len(pmds) == 2, f'ports spread over both PMDs: {pmds}')
    groups = {}
    for v in (10, 20):
        names = [n for n in sorted(vlan, key=lambda n: int(n[1:])) if vlan[n] == v]
        vdevs = [f'net_virtio_user{k},path={tmp}/{n}.sock,mac={nt.mac(int(n[1:]) + 1)}'
                 for k, n in enumerate(names)]
        # rxonly: a group sends only through 'start tx_first' bursts or txonly rounds below
        tp = nt.TestPmd(ARGS.testpmd, vdevs, 'rxonly',
                        ['--rxd=128', '--txd=128', '--total-num-mbufs=16384',
                         '--eth-peer=0,ff:ff:ff:ff:ff:ff'])
        groups[v] = (tp, names)
    check(all(sw.wait_link(f'p{i}', 'up', 60) for i in range(NPORTS)), f'{NPORTS} links up')

    def totals(names):
        s = [sw.stats(n) for n in names]
        return {k: sum(x[k] for x in s) for k in ('rx_packets', 'tx_packets', 'drop_queue_full',
                                                  'drop_no_buffers', 'drop_vlan')}
    def drain():
        # frames flooded among one group's own ports wait in their rings until polled
        for tp, _ in groups.values():
            tp.cmd('set fwd rxonly')
            tp.start()
        time.sleep(0.5)
        for tp, names in groups.values():
            tp.stop()
        nt.settle(sw, list(vlan))

    def churn_round(tp, names):
        """New random destination MACs on every port, then one burst each: unknown unicast is
        flooded in the VLAN and the other peers answer in macswap mode with the random MAC as
        their source, so the switch learns and moves MACs all round long."""
        tp.cmd('stop')    # also fine when not started
        for k in range(len(names)):
            tp.cmd(f'set eth-peer {k} {rand_mac(rng)}')
        tp.cmd('start tx_first 1')

    duration = ARGS.seconds
    # warm-up: both groups talk briefly (mempools, rings and the peers' memory get touched)
    for v in (10, 20):
        tp, names = groups[v]
        tp.cmd('set fwd macswap')
        churn_round(tp, names)
        time.sleep(1.0)
        tp.stop()
    drain()
    samples = []
    t_end = time.monotonic() + duration
    phase_len = duration / 2
    for phase, (talk, quiet) in enumerate(((10, 20), (20, 10))):
        tp_t, names_t = groups[talk]
        tp_q, names_q = groups[quiet]
        quiet_before = totals(names_q)
        peer_q_before = tp_q.stats()
        tp_q.cmd('set fwd rxonly')
        tp_q.start()
        tp_t.cmd('set fwd macswap')
        learned0 = sw.fdb()['fdb']
        p_end = min(t_end, time.monotonic() + phase_len)
        rounds = 0
        while time.monotonic() < p_end:
            churn_round(tp_t, names_t)
            rounds += 1
            time.sleep(0.5)
            samples.append((time.monotonic(), nt.proc_kib(sw.p.pid, 'RssAnon')))
            if not sw.alive():
                check(False, f'phase {phase}: switch died')
                return
        tp_t.stop()
        nt.settle(sw, names_t + names_q)
        tp_q.stop()
        quiet_after = totals(names_q)
        peer_q = tp_q.stats()
        crossed = quiet_after['tx_packets'] - quiet_before['tx_packets']
        peer_rx = sum(peer_q[p]['rx_packets'] - peer_q_before.get(p, {}).get('rx_packets', 0)
                      for p in peer_q)
        sent = totals(names_t)['rx_packets']
        learned1 = sw.fdb()['fdb']
        check(sent > 0, f'phase {phase}: VLAN {talk} sent {sent} frames in {rounds} churn rounds')
        check(learned1['learned'] - learned0['learned'] > len(names_t) and
              learned1['moved'] > learned0['moved'],
              f'phase {phase}: MACs churned (learned {learned1["learned"] - learned0["learned"]}, '
              f'moved {learned1["moved"] - learned0["moved"]})')
        check(crossed == 0, f'phase {phase}: switch sent {crossed} frames to VLAN {quiet} ports')
        check(peer_rx == 0, f'phase {phase}: VLAN {quiet} peers received {peer_rx} frames')
        drain()
    fdb = sw.fdb()
    entries = fdb['entries']
    check(fdb['fdb']['dynamic'] <= fdb['fdb']['max_dynamic'], 'FDB within its limit')
    wrong = [e for e in entries if not e['static'] and vlan.get(e['port']) != e['vlan']]
    check(not wrong, f'every learned MAC is on a port of its VLAN ({len(entries)} entries): {wrong[:3]}')
    # accounting: per port, what came in went out or was counted as a drop somewhere; checked
    # as no frame unaccounted on the quiet side above, and the switch answering here
    tot = totals(list(vlan))
    check(tot['drop_vlan'] == 0, f'access ports dropped no tagged frames: {tot}')
    # Private memory only: the peers' memory the switch maps (shared, up to their -m) is
    # touched page by page as frames land anywhere in it, which is not the switch's to leak.
    if samples:
        first = samples[0][1]
        nt.log(f'switch RssAnon: {first} KiB .. {max(r for _, r in samples)} KiB over '
               f'{len(samples)} samples; RssShmem now {nt.proc_kib(sw.p.pid, "RssShmem")} KiB')
        growth = max(r for _, r in samples) - first
        check(growth <= RSS_SLACK_KIB, f'switch private RSS flat: grew {growth} KiB '
              f'(limit {RSS_SLACK_KIB})')
    check(sw.alive() and sw.ok(cmd='show'), 'switch alive and answering at the end')
    for tp, _ in groups.values():
        tp.close()
    sw.stop()


def case_nfvd_load(tmp):
    if not (ARGS.nfvd and ARGS.nfvctl and ARGS.stub_vmm):
        return skip('nfvd_load needs --nfvd, --nfvctl and --stub-vmm')
    run = os.path.join(tmp, 'run')
    state = os.path.join(tmp, 'state')
    os.makedirs(run)
    sock = os.path.join(run, 'nfvd.sock')
    vmm = os.path.join(tmp, 'nfv-vmm')   # nfvd recognises its VMMs by name
    os.symlink(os.path.abspath(ARGS.stub_vmm), vmm)
    fake = nt.FakeSwitch(os.path.join(run, 'switch.sock'))

    def start():
        p = nt.start_logged(nt.nfvd_cmd(ARGS.nfvd, state, run, vmm), os.path.join(tmp, 'nfvd.log'))
        check(nt.wait_for(lambda: os.path.exists(sock), 10), 'nfvd up')
        return p

    def stop(p):
        nt.stop(p)
        if os.path.exists(sock):
            os.unlink(sock)
    nfvd = start()
    names = [f'load{i:02d}' for i in range(50)]
    for n in names:
        s, j, _ = nt.http('POST', '/domains', nt.domain_xml(n, '/nonexistent/guest.elf',
                                                              port_dev=f'{n}-e0', desc='v0'),
                          'application/xml', env=sock)
        if s != 201:
            check(False, f'define {n}: {s} {j}')
            break
    s, j, _ = nt.http('GET', '/domains', env=sock)
    check(s == 200 and len(j['domains']) == 50, '50 domains defined')
    base_rss, base_fds = nt.proc_kib(nfvd.pid), nt.nfds(nfvd.pid)
    stop_at = time.monotonic() + max(10, ARGS.seconds / 2)
    bad = []
    counts = [0] * 8
    lock = threading.Lock()

    def client(k):
        rng = random.Random(k)
        # clients 0-1 own 2 domains each for start/destroy cycles; the rest read and redefine
        own = names[k * 2:k * 2 + 2] if k < 2 else []
        while time.monotonic() < stop_at:
            n = rng.choice(names)
            op = rng.randrange(6)
            try:
                if own and op == 0:
                    d = rng.choice(own)
                    s1 = nt.http('POST', f'/domains/{d}/start', env=sock)[0]
                    s2 = nt.http('POST', f'/domains/{d}/destroy', env=sock)[0]
                    res = (s1 in (200,) and s2 in (200,), f'start/destroy {d}: {s1} {s2}')
                elif op == 1:
                    s = nt.http('POST', '/domains', nt.domain_xml(
                        n, '/nonexistent/guest.elf', port_dev=f'{n}-e0',
                        desc=f'v{rng.randrange(1000)}'), 'application/xml', env=sock)[0]
                    res = (s in (200, 201), f'redefine {n}: {s}')
                elif op == 2:
                    s, _, body = nt.http('GET', f'/domains/{n}/xml', env=sock)
                    res = (s == 200 and f'<name>{n}</name>'.encode() in body, f'xml {n}: {s}')
                elif op == 3:
                    s, j, _ = nt.http('GET', '/domains', env=sock)
                    res = (s == 200 and len(j['domains']) == 50, f'list: {s}')
                else:
                    s, j, _ = nt.http('GET', f'/domains/{n}', env=sock)
                    res = (s == 200 and j['name'] == n, f'info {n}: {s}')
            except (OSError, ValueError, KeyError, TypeError) as e:
                res = (False, f'{n}: {type(e).__name__}: {e}')
            with lock:
                counts[k] += 1
                if not res[0]:
                    bad.append(res[1])
    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    rss = []
    while any(t.is_alive() for t in threads):
        rss.append(nt.proc_kib(nfvd.pid))
        time.sleep(1)
    for t in threads:
        t.join(60)
    check(not any(t.is_alive() for t in threads), 'no API client hung')
    check(not bad, f'{sum(counts)} API calls, {len(bad)} unexpected replies: {bad[:5]}')
    check(min(counts) > 0, f'every client was served: {counts}')
    end_rss, end_fds = nt.proc_kib(nfvd.pid), nt.nfds(nfvd.pid)
    nt.log(f'nfvd RSS {base_rss} -> {end_rss} KiB (max {max(rss or [0])}), fds {base_fds} -> {end_fds}')
    check(end_rss - base_rss <= 8 * 1024, f'nfvd RSS flat ({base_rss} -> {end_rss} KiB)')
    check(end_fds <= base_fds + 2, f'no fd leak ({base_fds} -> {end_fds})')
    check(nfvd.poll() is None, 'nfvd alive')
    stop(nfvd)
    nfvd = start()
    s, j, _ = nt.http('GET', '/domains', env=sock)
    check(s == 200 and sorted(d['name'] for d in j['domains']) == names,
          'all 50 definitions intact after an nfvd restart')
    check(all(d['state'] == 'shut off' for d in j['domains']), 'none left running')
    stop(nfvd)
    fake.close()


CASES = {'switch_soak': case_switch_soak, 'nfvd_load': case_nfvd_load}


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    for o in ('switch', 'ctl', 'testpmd', 'nfvd', 'nfvctl', 'stub-vmm'):
        ap.add_argument('--' + o)
    ap.add_argument('--seconds', type=float, default=60)
    ap.add_argument('cases', nargs='*')
    ARGS = ap.parse_args()
    names = ARGS.cases or list(CASES)
    nt.run_cases(CASES, names, 'nfv-load-', logs=('switch.log', 'nfvd.log'))
    return nt.exit_status(len(names))


if __name__ == '__main__':
    sys.exit(main())
