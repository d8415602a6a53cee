#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""System tests of nfv-switch: the real switch, real peers (dpdk-testpmd with virtio_user vdevs,
net_tap interfaces driven through AF_PACKET sockets, a hostile vhost-user client written here).

usage: switch_test.py --switch BIN --ctl BIN --testpmd BIN CASE

Every DPDK process gets its own --file-prefix; the switch PMD runs on lcore 1 (cpu 1), testpmd
peers share cpu 0 (this machine has two cores). Assertions are on counters and frames, never on
speed."""

import argparse
import json
import mmap
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import nfvtest as nt  # noqa: E402
from nfvtest import log, check, wait_for, vu, mac, burst, settle, FAILS, PROCS  # noqa: E402

ARGS = None
TMP = None


def Switch(**kw):
    """nfv-switch in this run's directory (see nfvtest.Switch)."""
    return nt.Switch(ARGS.switch, TMP, **kw)


def peer(port, fwd, extra=(), m=None, sockdir=None, server=False, queues=1, **kw):
    """dpdk-testpmd as the peer of vhost-user port @port (socket @sockdir/PORT.sock, by default
    in TMP) with MAC mac(@m); @m is by default the port's name read as a hex number
    ('b': 02:00:00:00:00:0b); @kw as for nfvtest.TestPmd."""
    m = int(port, 16) if m is None else m
    return nt.TestPmd(ARGS.testpmd, [vu(f'{sockdir or TMP}/{port}.sock', mac(m), server, queues)],
                      fwd, extra, **kw)


def config(*reqs, name='sw.conf'):
    """A --config file in TMP with control requests @reqs (dicts), one per line. Ethdevs that
    reach the host (net_tap) are created from it: at run time the seccomp filter refuses them."""
    path = os.path.join(TMP, name)
    with open(path, 'w') as f:
        for r in reqs:
            f.write(json.dumps(r) + '\n')
    return path


# ---------------------------------------------------------------------------------------------
# Cases


def case_control():
    """Control protocol: errors name the field, nothing crashes, config file works."""
    conf = os.path.join(TMP, 'sw.conf')
    with open(conf, 'w') as f:
        f.write('# initial ports\n\n')
        f.write(json.dumps({'cmd': 'port-add', 'name': 'cfg0', 'type': 'vhost-user',
                            'path': os.path.join(TMP, 'cfg0.sock')}) + '\n')
        f.write(json.dumps({'cmd': 'port-add', 'name': 'null0', 'type': 'ethdev',
                            'devargs': 'net_null0', 'vlan_mode': 'trunk', 'vlan': 0,
                            'trunks': [10, 20]}) + '\n')
    sw = Switch(pmd_args=['--config', conf])
    ports = {p['name']: p for p in sw.ok(cmd='port-list')['ports']}
    check(set(ports) == {'cfg0', 'null0'}, 'config file ports present')
    check(ports['null0']['trunks'] == [10, 20] and ports['null0']['vlan_mode'] == 'trunk',
          'trunk config reported')
    check(ports['cfg0']['mode'] == 'server' and ports['cfg0']['link'] == 'down'
          and ports['cfg0']['path'].endswith('cfg0.sock'), 'vhost port entry fields')
    check(os.path.exists(os.path.join(TMP, 'cfg0.sock')), 'server-mode socket created')
    bad = [
        ('{"cmd":', 'bad JSON'),
        ('[1,2]', 'JSON object'),
        ('{"cmd":"nope"}', "cmd 'nope'"),
        ('{"name":"x"}', "'cmd'"),
        ('{"cmd":"port-add","name":"x","type":"vhost-user"}', "'path'"),
        ('{"cmd":"port-add","name":"x","type":"bogus"}', "type 'bogus'"),
        ('{"cmd":"port-add","name":"x","type":"vhost-user","path":"/tmp/x","vlan":5000}', "'vlan'"),
        ('{"cmd":"port-add","name":"x","type":"vhost-user","path":"/tmp/x","queues":0}', "'queues'"),
        ('{"cmd":"port-add","name":"x","type":"vhost-user","path":"rel","mode":"server"}', "path 'rel'"),
        ('{"cmd":"port-add","name":"x","type":"vhost-user","path":"/tmp/x","mode":"peer"}', "mode 'peer'"),
        ('{"cmd":"port-add","name":"x","type":"vhost-user","path":"/tmp/x","colour":1}', "'colour'"),
        ('{"cmd":"port-add","name":"x","type":"vhost-user","path":"/tmp/x","trunks":[10]}', "'trunks'"),
        ('{"cmd":"port-add","name":"x","type":"vhost-user","path":"/tmp/x","vlan_mode":"trunk","trunks":[0]}', "'trunks'"),
        ('{"cmd":"port-add","name":"cfg0","type":"vhost-user","path":"/tmp/y"}', "name 'cfg0'"),
        ('{"cmd":"port-add","name":"x y","type":"vhost-user","path":"/tmp/y"}', "name 'x y'"),
        ('{"cmd":"port-add","name":"t","type":"ethdev","devargs":"net_bogus0"}', "devargs 'net_bogus0'"),
        ('{"cmd":"port-del","name":"ghost"}', "name 'ghost'"),
        ('{"cmd":"fdb-add","mac":"02:00:00:00:00:zz","port":"cfg0"}', "mac '02:00:00:00:00:zz'"),
        ('{"cmd":"fdb-add","mac":"01:00:5e:00:00:01","port":"cfg0"}', 'multicast'),
        ('{"cmd":"fdb-add","mac":"02:00:00:00:00:01","port":"ghost"}', "port 'ghost'"),
        ('{"cmd":"fdb-del","mac":"02:00:00:00:00:09"}', 'no entry'),
        ('{"cmd":"stats","port":"ghost"}', "port 'ghost'"),
        ('{"cmd":"port-set-vlan","name":"cfg0","vlan_mode":"hybrid"}', "vlan_mode 'hybrid'"),
        ('{"cmd":"show","x":"\\ud800"}', 'bad JSON'),
        ('\x01\x02\xff', 'bad JSON'),
        ('{"cmd":"port-list"} trailing', 'bad JSON'),
        ('[' * 100 + ']' * 100, 'nesting'),
    ]
    for line, want in bad:
        r = sw.raw(line.encode('latin-1'))
        check(r.get('ok') is False and want in r.get('error', ''), f'{line[:50]!r} -> {r}')
    # Over-long line: one error, then the connection still serves.
    r = sw.raw(b'{"cmd":"' + b'x' * 70000 + b'"}')
    check(r.get('ok') is False and 'too long' in r['error'], 'over-long line refused')
    check(sw.ok(cmd='show')['version'], 'control connection usable after long line')
    # Garbage from a second client does not disturb the first.
    g = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    g.connect(sw.sock)
    g.sendall(os.urandom(5000) + b'\n')
    g.close()
    # Port and FDB management.
    sw.ok(cmd='port-add', name='v1', type='vhost-user', path=os.path.join(TMP, 'v1.sock'),
          mode='client', queues=2, vlan_mode='access', vlan=10)
    p = sw.port('v1')
    check(p['mode'] == 'client' and p['vlan'] == 10 and p['queues'] == 2, 'client port added')
    sw.ok(cmd='port-set-vlan', name='v1', vlan_mode='trunk', vlan=0, trunks=[30, 40])
    p = sw.port('v1')
    check(p['vlan_mode'] == 'trunk' and p['trunks'] == [30, 40], 'port-set-vlan applied')
    sw.ok(cmd='fdb-add', mac='02:00:00:00:00:01', vlan=30, port='v1')
    e = [x for x in sw.fdb()['entries'] if x['mac'] == '02:00:00:00:00:01']
    check(len(e) == 1 and e[0]['static'] and e[0]['port'] == 'v1' and e[0]['vlan'] == 30,
          'static fdb entry shown')
    sw.ok(cmd='fdb-del', mac='02:00:00:00:00:01', vlan=30)
    check(not sw.fdb()['entries'] or all(x['mac'] != '02:00:00:00:00:01'
                                          for x in sw.fdb()['entries']), 'fdb-del')
    sw.ok(cmd='fdb-add', mac='02:00:00:00:00:02', vlan=0, port='v1')
    sw.ok(cmd='port-del', name='v1')
    check(all(x['port'] != 'v1' for x in sw.fdb()['entries']), 'entries of deleted port gone')
    st = sw.ok(cmd='stats')
    check({x['name'] for x in st['ports']} == {'cfg0', 'null0'} and 'fdb' in st, 'stats all')
    need = {'name', 'rx_packets', 'rx_bytes', 'tx_packets', 'tx_bytes', 'drop_no_buffers',
            'drop_queue_full', 'drop_vlan', 'drop_malformed'}
    check(need <= set(st['ports'][0]), 'stats fields')
    sw.ok(cmd='stats-clear')
    sh = sw.ok(cmd='show')
    check(len(sh['pmds']) == 1 and sh['pmds'][0]['lcore'] == 1, 'show: one PMD on lcore 1')
    # The CLI.
    out = subprocess.run([ARGS.ctl, '--socket', sw.sock, 'port-add', 'c1', 'type=vhost-user',
                          f'path={TMP}/c1.sock', 'vlan_mode=trunk', 'trunks=5,6'],
                         capture_output=True, text=True)
    check(out.returncode == 0 and json.loads(out.stdout)['ok'], 'nfv-switchctl port-add')
    out = subprocess.run([ARGS.ctl, '--socket', sw.sock, 'port-list'], capture_output=True, text=True)
    check(out.returncode == 0 and 'c1' in out.stdout, 'nfv-switchctl port-list')
    out = subprocess.run([ARGS.ctl, '--socket', sw.sock, 'port-del', 'nope'], capture_output=True,
                         text=True)
    check(out.returncode == 1 and 'nope' in out.stdout, 'nfv-switchctl error exit status')
    out = subprocess.run([ARGS.ctl, '--socket', sw.sock, 'raw', '{"cmd":"show"}'],
                         capture_output=True, text=True)
    check(out.returncode == 0 and '"pmds"' in out.stdout, 'nfv-switchctl raw')
    for a in (['fdb'], ['fdb', 'add', '02:00:00:00:00:07', '5', 'c1'], ['fdb', 'del', '02:00:00:00:00:07', '5'],
              ['fdb', 'flush'], ['stats'], ['stats', 'c1'], ['stats-clear'], ['show']):
        out = subprocess.run([ARGS.ctl, '--socket', sw.sock, *a], capture_output=True, text=True)
        check(out.returncode == 0, f'nfv-switchctl {" ".join(a)}')
    check(sw.alive(), 'switch alive')
    # A bad config file names file and line.
    sw.stop()
    bad = os.path.join(TMP, 'bad.conf')
    with open(bad, 'w') as f:
        f.write('\n{"cmd":"port-add","name":"x","type":"vhost-user","path":"/tmp/x","vlan":9999}\n')
    r = subprocess.run([ARGS.switch, '--no-huge', '--no-pci', '-m', '256', '--file-prefix',
                        f'nfvswb{os.getpid()}', '-l', '0,1', '--', '--control',
                        os.path.join(TMP, 'c2.sock'), '--config', bad], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode != 0 and 'bad.conf:2' in r.stderr + r.stdout and "'vlan'" in r.stderr + r.stdout,
          'bad config: file:line and field named')


def two_peers(sw, a_cfg=None, b_cfg=None):
    """Ports a, b (server mode), testpmd rxonly on b and txonly on a (to b's MAC)."""
    sw.ok(cmd='port-add', name='a', type='vhost-user', path=f'{TMP}/a.sock', **(a_cfg or {}))
    sw.ok(cmd='port-add', name='b', type='vhost-user', path=f'{TMP}/b.sock', **(b_cfg or {}))


def case_learning():
    """Unknown unicast floods; once the destination is learned it goes to one port only."""
    sw = Switch()
    for n in 'abc':
        sw.ok(cmd='port-add', name=n, type='vhost-user', path=f'{TMP}/{n}.sock')
    tb = peer('b', 'rxonly')
    tc = peer('c', 'rxonly')
    ta = peer('a', 'txonly', [f'--eth-peer=0,{mac(0xb)}'])
    for n in 'abc':
        check(sw.wait_link(n), f'port {n} link up')
    tb.start()
    tc.start()
    burst(ta, 0.5)
    settle(sw, 'abc')
    sb, sc = sw.stats('b'), sw.stats('c')
    check(sb['tx_packets'] > 0 and sc['tx_packets'] > 0, f'flooded before learning (b {sb["tx_packets"]}, c {sc["tx_packets"]})')
    check(sw.stats('a')['flooded'] > 0, 'flood counted')
    # b speaks: its MAC is learned on port b.
    tb.stop()
    tb.cmd('set fwd txonly')
    tb.cmd(f'set eth-peer 0 {mac(0xa)}')
    burst(tb, 0.2)
    tb.cmd('set fwd rxonly')
    tb.start()
    fdb = {(e['mac'], e['vlan']): e for e in sw.fdb()['entries']}
    check(fdb.get((mac(0xb), 0), {}).get('port') == 'b', 'b learned on port b')
    check(fdb.get((mac(0xa), 0), {}).get('port') == 'a', 'a learned on port a')
    settle(sw, 'abc')
    sw.ok(cmd='stats-clear')
    c0 = sw.stats('c')
    check(c0['tx_packets'] == 0 and c0['rx_packets'] == 0, 'stats-clear zeroes counters')
    burst(ta, 0.5)
    settle(sw, 'abc')
    sa, sb, sc = sw.stats('a'), sw.stats('b'), sw.stats('c')
    check(sa['rx_packets'] > 0 and sa['flooded'] == 0, f'a rx {sa["rx_packets"]}, none flooded')
    check(sb['tx_packets'] + sb['drop_queue_full'] == sa['rx_packets'],
          f'all of a -> b (tx {sb["tx_packets"]} + full {sb["drop_queue_full"]} == {sa["rx_packets"]})')
    check(sc['tx_packets'] == 0, f'nothing to c after learning ({sc["tx_packets"]})')
    # Broadcast still reaches everyone; no hairpin back to a.
    ta.cmd('set eth-peer 0 ff:ff:ff:ff:ff:ff')
    burst(ta, 0.3)
    settle(sw, 'abc')
    check(sw.stats('c')['tx_packets'] > 0, 'broadcast reaches c')
    check(sw.stats('a')['tx_packets'] == 0, 'no hairpin: nothing sent back to a')
    for t in (ta, tb, tc):
        t.close()


def case_aging():
    sw = Switch(pmd_args=['--fdb-age', '2'])
    two_peers(sw)
    tb = peer('b', 'txonly', [f'--eth-peer=0,{mac(0xa)}'])
    check(sw.wait_link('b'), 'b up')
    burst(tb, 0.2)
    fdb = {e['mac']: e for e in sw.fdb()['entries']}
    check(mac(0xb) in fdb and fdb[mac(0xb)]['port'] == 'b', 'b learned')
    sw.ok(cmd='fdb-add', mac=mac(0x5), vlan=0, port='a')
    time.sleep(1.0)
    check(mac(0xb) in {e['mac'] for e in sw.fdb()['entries']}, 'still there after 1 s')
    ok = wait_for(lambda: mac(0xb) not in {e['mac'] for e in sw.fdb()['entries']}, 6)
    check(ok, 'aged out after the 2 s aging time')
    check(sw.fdb()['fdb']['aged'] >= 1, 'aged counter')
    check(mac(0x5) in {e['mac'] for e in sw.fdb()['entries']}, 'static entry does not age')
    tb.close()


def case_vlan():
    """Access ports in VLANs 10 and 20: no frame crosses."""
    sw = Switch()
    sw.ok(cmd='port-add', name='a', type='vhost-user', path=f'{TMP}/a.sock', vlan_mode='access', vlan=10)
    sw.ok(cmd='port-add', name='b', type='vhost-user', path=f'{TMP}/b.sock', vlan_mode='access', vlan=10)
    sw.ok(cmd='port-add', name='c', type='vhost-user', path=f'{TMP}/c.sock', vlan_mode='access', vlan=20)
    sw.ok(cmd='port-add', name='d', type='vhost-user', path=f'{TMP}/d.sock', vlan_mode='access', vlan=20)
    tb = peer('b', 'rxonly')
    tc = peer('c', 'rxonly')
    ta = peer('a', 'txonly', ['--eth-peer=0,ff:ff:ff:ff:ff:ff'])
    td = peer('d', 'txonly', ['--eth-peer=0,ff:ff:ff:ff:ff:ff'])
    for n in 'abcd':
        check(sw.wait_link(n), f'{n} up')
    tb.start()
    tc.start()
    burst(ta, 0.4)
    settle(sw, 'abcd')
    check(sw.stats('b')['tx_packets'] > 0, 'VLAN 10 broadcast reaches b')
    check(sw.stats('c')['tx_packets'] == 0 and sw.stats('d')['tx_packets'] == 0,
          'VLAN 10 broadcast does not reach VLAN 20')
    b_before = sw.stats('b')['tx_packets']
    burst(td, 0.4)
    settle(sw, 'abcd')
    check(sw.stats('c')['tx_packets'] > 0, 'VLAN 20 broadcast reaches c')
    check(sw.stats('a')['tx_packets'] == 0 and sw.stats('b')['tx_packets'] == b_before,
          'VLAN 20 broadcast does not reach VLAN 10')
    tpb, tpc = tb.stats()[0], tc.stats()[0]
    sb, sc = sw.stats('b'), sw.stats('c')
    check(tpb['rx_packets'] == sb['tx_packets'] and tpc['rx_packets'] == sc['tx_packets'],
          'testpmd receive counts equal switch transmit counts')
    # Moving a to VLAN 20 (pointer swap) makes its broadcasts reach c.
    sw.ok(cmd='stats-clear')
    sw.ok(cmd='port-set-vlan', name='a', vlan_mode='access', vlan=20)
    burst(ta, 0.3)
    settle(sw, 'abcd')
    check(sw.stats('c')['tx_packets'] > 0 and sw.stats('b')['tx_packets'] == 0,
          'after port-set-vlan a is in VLAN 20')
    for t in (ta, tb, tc, td):
        t.close()


# ---- net_tap helpers: frames in and out through AF_PACKET on the tap interfaces ----

ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
ETYPE = 0x88b5      # IEEE 802 local experimental ethertype: ignore kernel chatter


def tap_prepare(ifname):
    wait_for(lambda: os.path.exists(f'/sys/class/net/{ifname}'), 10)
    subprocess.run(['sysctl', '-q', '-w', f'net.ipv6.conf.{ifname}.disable_ipv6=1'],
                   capture_output=True)
    subprocess.run(['ip', 'link', 'set', ifname, 'up'], check=True)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def frame(dst, src, payload=b'nfv', vlan=None, etype=ETYPE):
    d = bytes.fromhex(dst.replace(':', ''))
    s = bytes.fromhex(src.replace(':', ''))
    tag = struct.pack('!HH', 0x8100, vlan) if vlan is not None else b''
    return d + s + tag + struct.pack('!H', etype) + payload.ljust(46, b'\0')


def tap_recv(s, timeout=1.0):
    """Frames of ETYPE received: list of (dst, src, vlan or None, payload)."""
    got = []
    end = time.time() + timeout
    while time.time() < end:
        try:
            data, anc, _, addr = s.recvmsg(4096, socket.CMSG_SPACE(32))
        except BlockingIOError:
            time.sleep(0.02)
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        vlan = None
        for lvl, typ, cd in anc:
            if lvl == SOL_PACKET and typ == PACKET_AUXDATA and len(cd) >= 20:
                st, _, _, _, _, tci, _ = struct.unpack('IIIHHHH', cd[:20])
                if st & TP_STATUS_VLAN_VALID:
                    vlan = tci & 0xfff
        et = struct.unpack('!H', data[12:14])[0]
        off = 14
        if et == 0x8100:    # not accelerated: tag still inline
            vlan = struct.unpack('!H', data[14:16])[0] & 0xfff
            et = struct.unpack('!H', data[16:18])[0]
            off = 18
        if et == ETYPE:
            got.append((data[0:6].hex(':'), data[6:12].hex(':'), vlan, data[off:off + 8]))
    return got


def case_ethdev():
    """net_tap ports: frame-level checks of VLAN tagging/untagging and isolation."""
    pid = os.getpid() % 10000
    t1, t2, t3 = f'nfa{pid}', f'nfb{pid}', f'nfc{pid}'
    conf = config(dict(cmd='port-add', name='tap1', type='ethdev', devargs=f'net_tap{pid}1,iface={t1}',
                       vlan_mode='access', vlan=10),
                  dict(cmd='port-add', name='tap2', type='ethdev', devargs=f'net_tap{pid}2,iface={t2}',
                       vlan_mode='trunk', vlan=0, trunks=[10, 20]),
                  dict(cmd='port-add', name='tap3', type='ethdev', devargs=f'net_tap{pid}3,iface={t3}',
                       vlan_mode='access', vlan=20))
    sw = Switch(pmd_args=['--config', conf])
    s1, s2, s3 = tap_prepare(t1), tap_prepare(t2), tap_prepare(t3)
    time.sleep(0.5)
    for s in (s1, s2, s3):
        tap_recv(s, 0.2)
    # Access VLAN 10 -> trunk: tagged 10; not on VLAN 20 access.
    s1.send(frame('ff:ff:ff:ff:ff:ff', mac(0x11), b'bc10'))
    g2, g3 = tap_recv(s2), tap_recv(s3)
    check(any(p.startswith(b'bc10') and v == 10 for _, _, v, p in g2), f'trunk got VLAN 10 tagged: {g2}')
    check(not any(p.startswith(b'bc10') for _, _, _, p in g3), 'VLAN 20 access port got nothing')
    # Trunk tagged 20 -> tap3 untagged; not to tap1.
    s2.send(frame('ff:ff:ff:ff:ff:ff', mac(0x22), b'bc20', vlan=20))
    g1, g3 = tap_recv(s1), tap_recv(s3)
    check(any(p.startswith(b'bc20') and v is None for _, _, v, p in g3), f'VLAN 20 untagged on access: {g3}')
    check(not any(p.startswith(b'bc20') for _, _, _, p in g1), 'VLAN 20 frame did not reach VLAN 10')
    # Trunk: VLAN 30 not allowed, untagged not allowed (no native VLAN).
    s2.send(frame('ff:ff:ff:ff:ff:ff', mac(0x22), b'bc30', vlan=30))
    s2.send(frame('ff:ff:ff:ff:ff:ff', mac(0x22), b'untg'))
    g1, g3 = tap_recv(s1), tap_recv(s3)
    check(not any(p.startswith((b'bc30', b'untg')) for _, _, _, p in g1 + g3), 'disallowed VLAN filtered')
    check(sw.stats('tap2')['drop_vlan'] >= 2, 'drop_vlan counted on trunk')
    # Tagged frame on an access port is filtered.
    s1.send(frame('ff:ff:ff:ff:ff:ff', mac(0x11), b'tg10', vlan=10))
    check(not any(p.startswith(b'tg10') for _, _, _, p in tap_recv(s2) + tap_recv(s3, 0.3)),
          'tagged frame on access port dropped')
    check(sw.stats('tap1')['drop_vlan'] >= 1, 'drop_vlan counted on access port')
    # Learned unicast: 0x11 is on tap1/VLAN 10; a frame to it from the trunk on VLAN 10 goes
    # untagged to tap1 only.
    s2.send(frame(mac(0x11), mac(0x22), b'uc10', vlan=10))
    g1 = tap_recv(s1)
    check(any(p.startswith(b'uc10') and v is None and d == mac(0x11) for d, _, v, p in g1),
          'unicast to learned MAC, untagged on access')
    # Malformed: a truncated 802.1Q header, and a multicast source MAC.
    s1.send(bytes.fromhex('ffffffffffff' '020000000011' '8100' '000a'))
    s1.send(frame('ff:ff:ff:ff:ff:ff', '03:00:00:00:00:11', b'mcsrc'))
    time.sleep(0.3)
    check(sw.stats('tap1')['drop_malformed'] >= 2, 'truncated tag and multicast source counted as malformed')
    # Counters: tap1 rx counts what we sent.
    st = sw.stats('tap2')
    check(st['tx_packets'] >= 1 and st['rx_packets'] >= 4, f'tap2 counters {st}')
    for s in (s1, s2, s3):
        s.close()


def case_macflood():
    """Random source MACs cannot exceed --fdb-max nor displace static entries."""
    pid = os.getpid() % 10000
    t1, t2 = f'nfa{pid}', f'nfb{pid}'
    conf = config(dict(cmd='port-add', name='tap1', type='ethdev', devargs=f'net_tap{pid}1,iface={t1}'),
                  dict(cmd='port-add', name='tap2', type='ethdev', devargs=f'net_tap{pid}2,iface={t2}'))
    sw = Switch(pmd_args=['--fdb-max', '100', '--config', conf])
    s1, s2 = tap_prepare(t1), tap_prepare(t2)
    for i in range(20):
        sw.ok(cmd='fdb-add', mac=f'02:00:00:00:01:{i:02x}', vlan=0, port='tap2')
    s2.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rnd = random.Random(7)
    got = []
    for i in range(3000):
        src = [rnd.randrange(256) & 0xfe | 0x02] + [rnd.randrange(256) for _ in range(5)]
        s1.send(frame('02:00:00:00:01:00', ':'.join(f'{b:02x}' for b in src), b'fl'))
        if i % 50 == 49:
            got += tap_recv(s2, 0.005)    # paced: the tap queues hold 1000 frames
    time.sleep(0.5)
    got += tap_recv(s2, 0.5)
    f = sw.fdb()
    check(f['fdb']['dynamic'] <= 100, f'dynamic entries bounded: {f["fdb"]["dynamic"]}')
    check(f['fdb']['limit_drops'] > 0, 'limit drops counted')
    statics = [e for e in f['entries'] if e['static']]
    check(len(statics) == 20 and all(e['port'] == 'tap2' for e in statics), 'static entries intact')
    # Traffic to a static MAC still goes to tap2 only.
    rx1 = sw.stats('tap1')['rx_packets']
    n = sum(1 for d, _, _, p in got if d == '02:00:00:00:01:00')
    check(rx1 >= 2900, f'flood frames received by the switch ({rx1})')
    check(n >= rx1 * 0.95, f'frames to the static MAC delivered to tap2 ({n} of {rx1})')
    # After a flush learning works again.
    sw.ok(cmd='fdb-flush')
    s1.send(frame('ff:ff:ff:ff:ff:ff', mac(0x33), b'after'))
    check(wait_for(lambda: mac(0x33) in {e['mac'] for e in sw.fdb()['entries']}, 3),
          'learning after flush')
    s1.close()
    s2.close()


def case_trunk():
    """Trunk vhost port: testpmd sees 802.1Q frames with the right VID."""
    sw = Switch()
    sw.ok(cmd='port-add', name='a', type='vhost-user', path=f'{TMP}/a.sock', vlan_mode='access', vlan=10)
    sw.ok(cmd='port-add', name='t', type='vhost-user', path=f'{TMP}/t.sock', vlan_mode='trunk',
          trunks=[10, 20])
    tt = peer('t', 'rxonly', m=0xe)
    ta = peer('a', 'txonly', ['--eth-peer=0,ff:ff:ff:ff:ff:ff'])
    check(sw.wait_link('a') and sw.wait_link('t'), 'links up')
    tt.cmd('set verbose 1')
    tt.start()
    ta.cmd('set burst 1')
    burst(ta, 0.05)
    time.sleep(0.5)
    out = tt.cmd('stop')
    with tt.lock:
        text = tt.out.decode(errors='replace')
    pk = re.findall(r'src=02:00:00:00:00:0A - dst=FF:FF:FF:FF:FF:FF.*?type=(0x[0-9a-fA-F]+) - length=(\d+)', text)
    check(len(pk) > 0, f'trunk port received frames ({len(pk)})')
    check(pk and all(t.lower() == '0x8100' and int(l) == 68 for t, l in pk),
          f'every frame is 802.1Q tagged, 4 bytes longer: {pk[:3]}')
    st = sw.stats('t')
    check(st['tx_bytes'] == st['tx_packets'] * 68, 'switch tx_bytes counts the tag')
    # Tagged frames from the trunk for VLAN 10 arrive untagged at a.
    ta.close()
    tt.close()


def case_counters():
    """Switch counters equal what testpmd sent and received (packets and bytes)."""
    sw = Switch()
    two_peers(sw)
    sw.ok(cmd='fdb-add', mac=mac(0xb), vlan=0, port='b')
    tb = peer('b', 'rxonly')
    ta = peer('a', 'txonly', [f'--eth-peer=0,{mac(0xb)}', '--txpkts=200'])
    check(sw.wait_link('a') and sw.wait_link('b'), 'links up')
    tb.start()
    burst(ta, 1.0)
    settle(sw, 'ab')
    tb.stop()
    pa, pb = ta.stats()[0], tb.stats()[0]
    sa, sb = sw.stats('a'), sw.stats('b')
    log(f'testpmd a {pa} b {pb}\nswitch a {sa}\nswitch b {sb}')
    check(pa['tx_packets'] > 0, 'a sent')
    check(sa['rx_packets'] == pa['tx_packets'], f'switch rx == testpmd tx ({sa["rx_packets"]} {pa["tx_packets"]})')
    check(sa['rx_bytes'] == pa['tx_packets'] * 200, 'switch rx_bytes == 200 B per frame')
    check(sb['tx_packets'] == pb['rx_packets'], f'switch tx == testpmd rx ({sb["tx_packets"]} {pb["rx_packets"]})')
    check(sb['tx_bytes'] == pb['rx_bytes'] or sb['tx_bytes'] == pb['rx_packets'] * 200, 'tx bytes match')
    check(sb['tx_packets'] + sb['drop_queue_full'] + sb['drop_link_down'] == sa['rx_packets'],
          'every frame from a is sent to b or counted as a drop')
    ta.close()
    tb.close()


def case_reconnect():
    """Client-mode port reconnects after the peer restarts; counters survive. Server mode too."""
    sw = Switch()
    sw.ok(cmd='port-add', name='a', type='vhost-user', path=f'{TMP}/a.sock', mode='client')
    sw.ok(cmd='port-add', name='b', type='vhost-user', path=f'{TMP}/b.sock')
    sw.ok(cmd='fdb-add', mac=mac(0xb), vlan=0, port='b')
    tb = peer('b', 'rxonly')
    tb.start()
    first = 0
    for rnd in range(2):
        if os.path.exists(f'{TMP}/a.sock'):
            os.unlink(f'{TMP}/a.sock')  # a killed server-mode peer leaves its socket behind
        ta = peer('a', 'txonly', [f'--eth-peer=0,{mac(0xb)}'], server=True)
        check(sw.wait_link('a', 'up', 30), f'round {rnd}: client port a connected')
        burst(ta, 0.3)
        sent = ta.stats()[0]['tx_packets']
        settle(sw, 'ab')
        rx = sw.stats('a')['rx_packets']
        check(rx == first + sent, f'round {rnd}: counters accumulate ({rx} == {first} + {sent})')
        first = rx
        ta.kill()   # the peer dies without a goodbye
        check(sw.wait_link('a', 'down', 10), f'round {rnd}: link down after peer died')
    p = sw.port('a')
    check(p['connects'] == 2 and p['disconnects'] == 2, f'connects/disconnects {p}')
    # Server-mode port: the frontend goes and comes back.
    tb.kill()
    check(sw.wait_link('b', 'down'), 'b down')
    tx_before = sw.stats('b')['tx_packets']
    tb = peer('b', 'rxonly')
    check(sw.wait_link('b'), 'server port b back')
    check(sw.stats('b')['tx_packets'] == tx_before and tx_before > 0, 'b counters kept')
    tb.close()


def case_multiqueue():
    sw = Switch()
    sw.ok(cmd='port-add', name='a', type='vhost-user', path=f'{TMP}/a.sock', queues=2)
    sw.ok(cmd='port-add', name='b', type='vhost-user', path=f'{TMP}/b.sock', queues=2)
    sw.ok(cmd='fdb-add', mac=mac(0xb), vlan=0, port='b')
    tb = peer('b', 'rxonly', ['--rxq=2', '--txq=2'], queues=2)
    ta = peer('a', 'txonly', ['--rxq=2', '--txq=2', f'--eth-peer=0,{mac(0xb)}'], queues=2,
              cores='0@0,1@0,2@0')
    check(sw.wait_link('a') and sw.wait_link('b'), 'links up')
    sh = sw.ok(cmd='show')
    rxqs = [(q['port'], q['queue']) for p in sh['pmds'] for q in p['rxqs']]
    check(('a', 0) in rxqs and ('a', 1) in rxqs, f'both queues of a polled: {rxqs}')
    tb.start()
    ta.cmd('set nbcore 2')
    burst(ta, 0.5)
    settle(sw, 'ab')
    pa = ta.stats()[0]
    sa, sb = sw.stats('a'), sw.stats('b')
    check(sa['rx_packets'] == pa['tx_packets'] and pa['tx_packets'] > 0,
          f'all frames of both queues received ({sa["rx_packets"]} == {pa["tx_packets"]})')
    check(sb['tx_packets'] > 0, 'forwarded to b')
    ta.close()
    tb.close()


def case_twopmd():
    """Two PMDs (lcores 1 and 2, both on cpu 1): queues spread, counters summed, reloads."""
    pid = os.getpid() % 10000
    # The kernel chats on a fresh tap (IPv6 RS, MLD): keep it out of VLAN 0.
    conf = config(dict(cmd='port-add', name='tap1', type='ethdev', devargs=f'net_tap{pid}1,iface=nfq{pid}',
                       vlan_mode='access', vlan=5))
    sw = Switch(lcores=('--lcores', '0@0,1@1,2@1'), pmd_args=['--pmd-cores', '1,2', '--config', conf])
    sh = sw.ok(cmd='show')
    check([p['lcore'] for p in sh['pmds']] == [1, 2], f'two PMDs on lcores 1, 2: {sh["pmds"]}')
    two_peers(sw)
    sw.ok(cmd='fdb-add', mac=mac(0xb), vlan=0, port='b')
    pmd = {p['name']: p['pmd'] for p in sw.ok(cmd='port-list')['ports']}
    check(pmd['a'] != pmd['b'], f'ports a and b polled by different PMDs: {pmd}')
    tb = peer('b', 'rxonly')
    ta = peer('a', 'txonly', [f'--eth-peer=0,{mac(0xb)}'])
    check(sw.wait_link('a') and sw.wait_link('b'), 'links up')
    tb.start()
    ta.start()
    for i in range(10):     # reloads while both PMDs forward
        sw.ok(cmd='port-set-vlan', name='tap1', vlan_mode='access', vlan=5 + i % 3)
    time.sleep(0.3)
    ta.stop()
    settle(sw, 'ab')
    tb.stop()
    pa, pb = ta.stats()[0], tb.stats()[0]
    sa, sb = sw.stats('a'), sw.stats('b')
    check(sa['rx_packets'] == pa['tx_packets'] > 0, f'rx {sa["rx_packets"]} == testpmd tx {pa["tx_packets"]}')
    check(sb['tx_packets'] == pb['rx_packets'], f'tx {sb["tx_packets"]} == testpmd rx {pb["rx_packets"]}')
    check(sb['tx_packets'] + sb['drop_queue_full'] == sa['rx_packets'],
          f'every frame accounted for: a {sa} b {sb}')
    loops = [p['loops'] for p in sw.ok(cmd='show')['pmds']]
    check(all(n > 0 for n in loops), f'both PMDs running: {loops}')
    ta.close()
    tb.close()


# ---- hostile vhost-user frontend ----

VHOST_USER_VERSION = 1


def vu_msg(req, payload=b'', flags=VHOST_USER_VERSION, size=None):
    return struct.pack('<III', req, flags, len(payload) if size is None else size) + payload


def vu_send(path, chunks, fds=(), close=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(path)
    try:
        for i, c in enumerate(chunks):
            if i == 0 and fds:
                s.sendmsg([c], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f'{len(fds)}i', *fds))])
            else:
                s.sendall(c)
            time.sleep(0.02)
    except OSError:
        pass
    if close:
        s.close()
    return s


def hostile_rounds(path, sw):
    """Yield (description, action) pairs; each action talks to the switch's socket."""
    devnull = os.open('/dev/null', os.O_RDWR)
    mfd = os.memfd_create('hostile')
    os.ftruncate(mfd, 1 << 20)
    efd = os.eventfd(0)
    region = lambda gpa, size, uaddr, off: struct.pack('<QQQQ', gpa, size, uaddr, off)
    mem1 = struct.pack('<II', 1, 0) + region(0, 1 << 20, 0x10000000, 0)
    yield 'garbage bytes', lambda: vu_send(path, [os.urandom(4096)])
    yield 'size 0xffffffff', lambda: vu_send(path, [vu_msg(1, size=0xffffffff)])
    yield 'unknown request 9999', lambda: vu_send(path, [vu_msg(9999, b'\0' * 8)])
    yield 'bad version flags', lambda: vu_send(path, [vu_msg(1, flags=0x7)])
    yield 'mem table: 1000 regions, no fds', lambda: vu_send(path, [vu_msg(5, struct.pack('<II', 1000, 0))])
    yield 'mem table: /dev/null, 1 TiB', lambda: vu_send(
        path, [vu_msg(5, struct.pack('<II', 1, 0) + region(0, 1 << 40, 0x1000, 0))], fds=[devnull])
    yield 'mem table: offset past memfd', lambda: vu_send(
        path, [vu_msg(5, struct.pack('<II', 1, 0) + region(0, 1 << 30, 0x1000, 1 << 40))], fds=[mfd])
    yield 'vring ops on vring 300', lambda: vu_send(path, [
        vu_msg(8, struct.pack('<II', 300, 0xffff)), vu_msg(9, struct.pack('<IIQQQQ', 300, 0, 1, 2, 3, 4)),
        vu_msg(10, struct.pack('<II', 300, 7))])
    yield 'kick with 20 fds', lambda: vu_send(path, [vu_msg(12, struct.pack('<Q', 0))], fds=[efd] * 20)
    yield 'features all ones, owner twice', lambda: vu_send(path, [
        vu_msg(3), vu_msg(3), vu_msg(2, struct.pack('<Q', (1 << 64) - 1)), vu_msg(4)])

    def garbage_rings():
        # A "working" device whose rings are garbage: descriptors point anywhere, with any length.
        m = mmap.mmap(mfd, 1 << 20)
        m[:] = os.urandom(1 << 20)
        feats = (1 << 32) | (1 << 15)   # VERSION_1, MRG_RXBUF
        msgs = [vu_msg(3), vu_msg(2, struct.pack('<Q', feats)), vu_msg(5, mem1)]
        for q in (0, 1):
            desc, avail, used = 0x10000 * (q + 1), 0x10000 * (q + 1) + 0x1000, 0x10000 * (q + 1) + 0x2000
            msgs += [vu_msg(8, struct.pack('<II', q, 256)), vu_msg(10, struct.pack('<II', q, 0)),
                     vu_msg(9, struct.pack('<IIQQQQ', q, 0, 0x10000000 + desc, 0x10000000 + used,
                                           0x10000000 + avail, 0))]
        s = vu_send(path, msgs[:2], close=False)
        s.sendmsg([msgs[2]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('i', mfd))])
        for mm in msgs[3:]:
            s.sendall(mm)
        for q in (0, 1):
            s.sendmsg([vu_msg(12, struct.pack('<Q', q))], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('i', efd))])
            s.sendmsg([vu_msg(13, struct.pack('<Q', q))], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('i', efd))])
            s.sendall(vu_msg(18, struct.pack('<II', q, 1)))
        for i in range(40):
            m[0x11000:0x11000 + 4] = struct.pack('<HH', 0, random.randrange(65536))
            m[0x21000:0x21000 + 4] = struct.pack('<HH', 0, random.randrange(65536))
            m[0x10000:0x11000] = os.urandom(0x1000)
            m[0x20000:0x21000] = os.urandom(0x1000)
            # Ring enable/disable runs with the device's vring locks held while frames are being
            # flooded to it, racing a table reload on the control side.
            for q in (0, 1):
                s.sendall(vu_msg(18, struct.pack('<II', q, i % 2)))
            sw.ok(cmd='port-set-vlan', name='h', vlan_mode='access', vlan=0)
            time.sleep(0.02)
        s.close()
        m.close()
    yield 'device with garbage rings', garbage_rings


def case_hostile():
    """A hostile vhost-user client on port h; a -> b keeps forwarding, the switch survives."""
    sw = Switch()
    two_peers(sw)
    sw.ok(cmd='port-add', name='h', type='vhost-user', path=f'{TMP}/h.sock')
    tb = peer('b', 'rxonly')
    ta = peer('a', 'txonly', [f'--eth-peer=0,{mac(0xb)}'])
    check(sw.wait_link('a') and sw.wait_link('b'), 'links up')
    tb.start()
    ta.cmd('set eth-peer 0 ff:ff:ff:ff:ff:ff')
    ta.start()
    for desc, act in hostile_rounds(f'{TMP}/h.sock', sw):
        before = sw.stats('b')['tx_packets']
        try:
            act()
        except OSError as e:
            log(f'  ({desc}: {e})')
        time.sleep(0.3)
        after = sw.stats('b')['tx_packets']
        check(sw.alive() and after > before, f'{desc}: switch alive, a -> b still forwarding')
    ta.stop()
    check(sw.port('h') is not None and sw.alive(), 'port h still configured')
    # h is usable by a well-behaved peer afterwards.
    th = peer('h', 'rxonly', m=0xc)
    check(sw.wait_link('h'), 'a real peer can attach to h afterwards')
    th.close()
    ta.close()
    tb.close()


# ---- privilege drop ----

DROP_ID = 65534     # nobody/nogroup on Debian


def case_privdrop():
    """Started as root with --user: every thread drops, and vhost-user ports added afterwards
    (in a directory the user may write) forward; --socket-group gives sockets that group, 0660;
    a bad --user is refused at start, naming it."""
    import grp
    sgid = grp.getgrnam('users').gr_gid if 'users' in {g.gr_name for g in grp.getgrall()} else 4242
    # Bad values: refused before anything is set up (no PMD spins), message names the value.
    for args, want in ((['--user', 'no-such-user-nfv'], "no such user 'no-such-user-nfv'"),
                       (['--user', '0'], "--user 0: refusing"),
                       (['--socket-group', 'no-such-group-nfv'], "'no-such-group-nfv'")):
        r = subprocess.run([ARGS.switch, '--no-huge', '--no-pci', '--no-shconf', '-m', '128',
                            '-l', '0', '--', '--control', os.path.join(TMP, 'bad.sock'), *args],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode != 0 and want in r.stdout + r.stderr,
              f'{" ".join(args)}: refused ({r.returncode}) naming the value')
    # The dropped user must reach its socket directory: TMP is root's 0700 mkdtemp.
    os.chmod(TMP, 0o711)
    udir = os.path.join(TMP, 'u')
    os.mkdir(udir)
    os.chown(udir, DROP_ID, DROP_ID)
    # --no-shconf: ethdev hotplug after the drop needs no root-only EAL runtime dir.
    # A tap needs CAP_NET_ADMIN: created from --config, before the drop.
    tap = f'nfd{os.getpid() % 10000}'
    conf = os.path.join(TMP, 'sw.conf')
    with open(conf, 'w') as f:
        f.write(json.dumps({'cmd': 'port-add', 'name': 'tp', 'type': 'ethdev',
                            'devargs': f'net_tap{os.getpid() % 10000},iface={tap}',
                            'vlan_mode': 'access', 'vlan': 7}) + '\n')
    sw = Switch(extra=['--no-shconf'],
                pmd_args=['--config', conf, '--user', f'{DROP_ID}:{DROP_ID}',
                          '--socket-group', str(sgid)])
    check(wait_for(lambda: f'running as uid {DROP_ID}' in open(sw.logf.name).read(), 10),
          'switch logs the drop')
    tasks = os.listdir(f'/proc/{sw.p.pid}/task')
    names = []
    for t in tasks:
        st = nt.proc_status(sw.p.pid, t)
        names.append(st['Name'])
        ids = st['Uid'].split() + st['Gid'].split()
        check(ids == [str(DROP_ID)] * 8 and int(st['CapEff'], 16) == 0 and int(st['CapPrm'], 16) == 0
              and st['NoNewPrivs'] == '1',
              f'thread {t} {st["Name"]}: Uid {st["Uid"]} Gid {st["Gid"]} CapEff {st["CapEff"]} '
              f'CapPrm {st["CapPrm"]} NoNewPrivs {st["NoNewPrivs"]}')
    check(len(tasks) >= 3 and any(n.startswith('rte-worker') for n in names),
          f'the PMD lcore and DPDK threads are among them: {names}')
    st = os.stat(sw.sock)
    check(st.st_gid == sgid and st.st_mode & 0o777 == 0o660, f'control socket group {st.st_gid}, '
          f'mode {st.st_mode & 0o777:o}')
    # vhost-user server ports added after the drop.
    for n in 'ab':
        sw.ok(cmd='port-add', name=n, type='vhost-user', path=f'{udir}/{n}.sock')
        st = os.stat(f'{udir}/{n}.sock')
        check(st.st_uid == DROP_ID and st.st_gid == sgid and st.st_mode & 0o777 == 0o660,
              f'{n}.sock: owner {st.st_uid}, group {st.st_gid}, mode {st.st_mode & 0o777:o}')
    r = sw.ctl(cmd='port-add', name='r', type='vhost-user', path=f'{TMP}/r.sock')
    check(not r['ok'] and 'r.sock' in r['error'] and 'may not write to its directory' in r['error'],
          f'no socket in a directory the user may not write: {r}')
    tb = peer('b', 'rxonly', sockdir=udir)
    ta = peer('a', 'txonly', [f'--eth-peer=0,{mac(0xb)}'], sockdir=udir)
    check(sw.wait_link('a') and sw.wait_link('b'), 'both peers connected to the dropped switch')
    tb.start()
    burst(ta, 0.5)
    settle(sw, 'ab')
    tb.stop()
    pa, pb = ta.stats()[0], tb.stats()[0]
    # a PMD descheduled on a loaded host may still be draining after settle(): wait for it
    check(pa['tx_packets'] > 0 and
          wait_for(lambda: sw.stats('a')['rx_packets'] == pa['tx_packets'], 10),
          f'a -> switch: {pa["tx_packets"]} sent, all received ({sw.stats("a")["rx_packets"]})')
    check(pb['rx_packets'] > 0 and sw.stats('b')['tx_packets'] == pb['rx_packets'],
          f'switch -> b: {pb["rx_packets"]} frames')
    # And back: b answers a.
    tb.cmd('set fwd txonly')
    tb.cmd(f'set eth-peer 0 {mac(0xa)}')
    ta.cmd('set fwd rxonly')
    ta.start()
    burst(tb, 0.3)
    settle(sw, 'ab')
    ta.stop()
    check(ta.stats()[0]['rx_packets'] > 0, 'b -> a frames arrive')
    fdb = {e['mac']: e['port'] for e in sw.fdb()['entries']}
    check(fdb.get(mac(0xa)) == 'a' and fdb.get(mac(0xb)) == 'b', f'fdb learned both: {fdb}')
    ta.close()
    tb.close()
    # Client port: the frontend's socket (root's, 0755 here) must let the dropped user write to
    # it; given to the --socket-group group, which the switch keeps, the reconnect gets through.
    # A server-mode testpmd waits in its start-up until a backend connects: start it aside.
    sw.ok(cmd='port-add', name='c', type='vhost-user', path=f'{udir}/c.sock', mode='client')
    tcs = []
    th = threading.Thread(target=lambda: tcs.append(
        peer('c', 'rxonly', sockdir=udir, server=True)), daemon=True)
    th.start()
    check(wait_for(lambda: os.path.exists(f'{udir}/c.sock'), 20), 'frontend socket created')
    time.sleep(1.5)     # the switch retries every second
    check(sw.port('c')['link'] == 'down', 'client port: no connect to a socket only root may write')
    os.chown(f'{udir}/c.sock', 0, sgid)
    os.chmod(f'{udir}/c.sock', 0o660)
    check(sw.wait_link('c', 'up', 10), 'client port connects once the socket is 0660 of the group')
    th.join(30)
    for t in tcs:
        t.close()
    # Ethdev hotplug, port-del.
    sw.ok(cmd='port-add', name='n', type='ethdev', devargs='net_null0')
    r = sw.ctl(cmd='port-add', name='t', type='ethdev', devargs='net_tap77,iface=nfvdrop77')
    check(not r['ok'], f'a tap (CAP_NET_ADMIN) cannot be created after the drop: {r}')
    check(sw.port('tp') is not None and os.path.exists(f'/sys/class/net/{tap}'),
          'the tap port from --config is there')
    for n in ('a', 'b', 'c', 'n', 'tp'):
        sw.ok(cmd='port-del', name=n)
    check(not os.path.exists(f'/sys/class/net/{tap}'), 'port-del of the tap after the drop removes it')
    check(not os.path.exists(f'{udir}/a.sock'), 'port-del unlinked the server socket')
    check(sw.alive(), 'switch alive')
    check(sw.stop() == 0, 'clean exit')


def seccomp_all(pid, what):
    """Every thread of @pid is under a seccomp filter (Seccomp 2) with NoNewPrivs; returns the
    thread names."""
    names = []
    for t in os.listdir(f'/proc/{pid}/task'):
        st = nt.proc_status(pid, t)
        names.append(st['Name'])
        check(st['Seccomp'] == '2' and st['NoNewPrivs'] == '1',
              f'{what}: thread {t} {st["Name"]}: Seccomp {st["Seccomp"]} NoNewPrivs {st["NoNewPrivs"]}')
    return names


def case_seccomp():
    """The default filter: every thread confined; vhost-user ports added and deleted at run time
    forward; net_null hotplug works, a run-time tap is refused, a tap from --config is deleted;
    the process exits cleanly under it. --seccomp-selftest dies of SIGSYS, log lets it through,
    off warns, bad values are refused."""
    pid = os.getpid() % 10000
    tap = f'nfs{pid}'
    conf = config(dict(cmd='port-add', name='tp', type='ethdev', devargs=f'net_tap{pid},iface={tap}',
                       vlan_mode='access', vlan=7))
    sw = Switch(pmd_args=['--config', conf])
    check(wait_for(lambda: 'seccomp filter installed (on)' in open(sw.logf.name).read(), 10),
          'switch logs the filter, mode on, by default')
    names = seccomp_all(sw.p.pid, 'after start')
    check(len(names) >= 3 and any(n.startswith('rte-worker') for n in names),
          f'the PMD lcore and DPDK threads are among them: {names}')
    # Two rounds of run-time vhost-user ports: the first starts vhost's threads under the filter,
    # the second reuses the paths of deleted ports.
    for rnd in range(2):
        two_peers(sw)
        tb = peer('b', 'rxonly')
        ta = peer('a', 'txonly', [f'--eth-peer=0,{mac(0xb)}'])
        check(sw.wait_link('a') and sw.wait_link('b'), f'round {rnd}: both peers connected')
        tb.start()
        burst(ta, 0.5)
        settle(sw, 'ab')
        tb.stop()
        pa, pb = ta.stats()[0], tb.stats()[0]
        check(pa['tx_packets'] > 0 and
              wait_for(lambda: sw.stats('a')['rx_packets'] == pa['tx_packets'], 10),
              f'round {rnd}: a -> switch: {pa["tx_packets"]} sent, all received '
              f'({sw.stats("a")["rx_packets"]})')
        check(pb['rx_packets'] > 0 and sw.stats('b')['tx_packets'] == pb['rx_packets'],
              f'round {rnd}: switch -> b: {pb["rx_packets"]} frames')
        ta.close()
        tb.close()
        check(sw.wait_link('a', 'down') and sw.wait_link('b', 'down'), f'round {rnd}: peers gone')
        for n in 'ab':
            sw.ok(cmd='port-del', name=n)
        check(not os.path.exists(f'{TMP}/a.sock'), f'round {rnd}: port-del unlinked the socket')
    # Requests any peer may send that reach rarer calls of the vhost library: an inflight area
    # (a memfd it makes and maps) and postcopy (a userfaultfd, answered EPERM by the filter)
    # must not get the switch killed.
    sw.ok(cmd='port-add', name='h', type='vhost-user', path=f'{TMP}/h.sock')
    mfd = os.memfd_create('inflight')
    os.ftruncate(mfd, 1 << 16)
    inflight = struct.pack('<QQHHxxxx', 1 << 16, 0, 2, 256)
    vu_send(f'{TMP}/h.sock', [vu_msg(31, inflight)])                # GET_INFLIGHT_FD
    vu_send(f'{TMP}/h.sock', [vu_msg(32, inflight)], fds=[mfd])     # SET_INFLIGHT_FD
    vu_send(f'{TMP}/h.sock', [vu_msg(28), vu_msg(29), vu_msg(30)])  # POSTCOPY_ADVISE, _LISTEN, _END
    os.close(mfd)
    check(sw.alive(), 'inflight and postcopy requests of a peer do not kill the switch')
    sw.ok(cmd='port-del', name='h')
    # A client port with nobody listening: vhost's reconnect thread starts and retries.
    sw.ok(cmd='port-add', name='c', type='vhost-user', path=f'{TMP}/c.sock', mode='client')
    time.sleep(1.5)
    check(sw.port('c')['link'] == 'down', 'client port retries')
    sw.ok(cmd='port-del', name='c')
    # Ethdevs: net_null needs nothing from the host; a tap would, and is refused naming the way.
    sw.ok(cmd='port-add', name='n', type='ethdev', devargs='net_null0')
    sw.ok(cmd='port-del', name='n')
    r = sw.ctl(cmd='port-add', name='t', type='ethdev', devargs=f'net_tap{pid}9,iface=nft{pid}')
    check(not r['ok'] and '--config' in r['error'] and 'seccomp' in r['error'],
          f'a run-time tap is refused under the filter, naming --config: {r}')
    check(not os.path.exists(f'/sys/class/net/nft{pid}'), 'and no interface was created')
    check(sw.port('tp')['link'] == 'up', 'the tap from --config reports its link')
    sw.ok(cmd='port-del', name='tp')
    check(not os.path.exists(f'/sys/class/net/{tap}'), 'port-del of the --config tap removes it')
    seccomp_all(sw.p.pid, 'at the end')
    check(sw.alive(), 'switch alive')
    check(sw.stop() == 0, 'clean exit under the filter')

    def run(mode, selftest=True, wait='nfv-switch ready'):
        """The switch with --seccomp @mode: its exit status (None: still running, then stopped)
        and its output."""
        out = os.path.join(TMP, f'st-{mode}.log')
        cmd = nt.switch_cmd(ARGS.switch, os.path.join(TMP, f'st-{mode}.sock'), f'nfvsws{os.getpid()}',
                            memory=256, args=['--seccomp', mode] + (['--seccomp-selftest'] if selftest else []))
        with open(out, 'w') as f:
            p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
        wait_for(lambda: p.poll() is not None or wait in open(out).read(), 30, 0.1)
        rc = p.poll()
        if rc is None:
            nt.stop(p, timeout=15)
        return rc, open(out).read()

    rc, out = run('on')
    check(rc == -signal.SIGSYS, f'--seccomp on --seccomp-selftest: killed by SIGSYS ({rc})')
    rc, out = run('log', wait='forbidden personality')
    check(rc is None and 'forbidden personality() returned' in out, f'log: the call gets through ({rc})')
    rc, out = run('off', wait='forbidden personality')
    check(rc is None and 'seccomp is off' in out and 'forbidden personality() returned' in out,
          f'off: warns, the call gets through ({rc})')
    for bad in ('maybe', 'ON', ''):
        rc, out = run(bad, selftest=False)
        check(rc is not None and rc > 0 and f"--seccomp: '{bad}' is not on, log or off" in out,
              f'--seccomp {bad!r}: refused ({rc}) naming the value')


CASES = {n[5:]: f for n, f in globals().items() if n.startswith('case_')}


def main():
    global ARGS, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument('--switch', required=True)
    ap.add_argument('--ctl', required=True)
    ap.add_argument('--testpmd', default='dpdk-testpmd')
    ap.add_argument('case', choices=sorted(CASES))
    ARGS = ap.parse_args()
    if os.geteuid() != 0:
        print('SKIP: needs root (DPDK, taps)')
        return 77
    TMP = tempfile.mkdtemp(prefix='nfvsw-')
    try:
        CASES[ARGS.case]()
    except Exception as e:  # a crash of the driver is a failure, reported with context
        import traceback
        traceback.print_exc()
        FAILS.append(f'exception: {e}')
    finally:
        for p in reversed(PROCS):
            if p.args[0] == ARGS.switch:
                nt.stop(p, timeout=15)
            else:
                nt.stop(p, signal.SIGKILL)
        swlog = os.path.join(TMP, 'switch.log')
        if os.path.exists(swlog):
            text = open(swlog).read()
            print('--- switch log (tail) ---\n' + text[-3000:])
            for p in PROCS:
                if p.args[0] == ARGS.switch and p.returncode not in (0, None):
                    FAILS.append(f'switch exit status {p.returncode}')
        subprocess.run(['rm', '-rf', TMP])
    if FAILS:
        print(f'{len(FAILS)} failure(s):\n  ' + '\n  '.join(FAILS))
        return 1
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
