#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A stand-in for nfv-vmm with the same command line, control protocol and exit statuses, so the
nfvd tests can exercise supervision (start, stop, crash, re-adoption) without /dev/kvm.

  nfv-vmm --domain FILE.xml [--control PATH] [--serial unix:PATH|pty|file:PATH|none] [--log-file P]

Behaviour is steered by the domain XML: a <description> containing 'stub:exit=N' exits with
status N right away (2 = configuration error), 'stub:reset-after=S' exits with status 5 (a guest
reset) after S seconds; otherwise it runs until {"cmd":"shutdown"} (exit 0),
{"cmd":"quit"} (exit 0) or a signal. Like nfv-vmm it logs "exit status N" as its last line."""
import json
import os
import signal
import socket
import sys
import threading
import time
import xml.etree.ElementTree as ET


def main():
    args = sys.argv[1:]
    opts = {}
    i = 0
    while i < len(args):
        if args[i] in ('--domain', '--control', '--serial', '--log-file', '--user') and \
                i + 1 < len(args):
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            print(f'nfv-vmm: unknown option {args[i]}', file=sys.stderr)
            return 2
    log = open(opts['--log-file'], 'a') if '--log-file' in opts else sys.stderr

    def say(msg):
        log.write(time.strftime('%H:%M:%S.000') + f' nfv-vmm[{os.getpid()}] info: {msg}\n')
        log.flush()

    def finish(status):
        say(f'exit status {status}')
        os._exit(status)

    try:
        root = ET.parse(opts['--domain']).getroot()
    except (KeyError, OSError, ET.ParseError) as e:
        say(f'config error: {e}')
        finish(2)
    name = root.findtext('name')
    vcpus = int(root.findtext('vcpu') or 1)
    mem = int(root.findtext('memory') or 0)
    desc = root.findtext('description') or ''
    if 'stub:exit=' in desc:
        finish(int(desc.split('stub:exit=')[1].split()[0]))
    if 'stub:reset-after=' in desc:
        # the guest resets itself after a while: nfv-vmm's exit status 5
        delay = float(desc.split('stub:reset-after=')[1].split()[0])
        threading.Timer(delay, finish, args=(5,)).start()
    pins = {int(p.get('vcpu')): p.get('cpuset') for p in root.iter('vcpupin')}
    say(f'domain {name}: {vcpus} vcpus, {mem} KiB, serial {opts.get("--serial")}')

    serial = opts.get('--serial', '')
    if serial.startswith('unix:'):
        path = serial[5:]
        try:
            os.unlink(path)
        except OSError:
            pass
        ss = socket.socket(socket.AF_UNIX)
        ss.bind(path)
        ss.listen(1)

        def serve_serial():
            while True:
                c, _ = ss.accept()
                c.sendall(f'{name} serial console\r\n'.encode())
                while True:
                    data = c.recv(4096)
                    if not data:
                        break
                    c.sendall(data)  # echo, like a guest shell would
                c.close()
        threading.Thread(target=serve_serial, daemon=True).start()

    signal.signal(signal.SIGTERM, lambda *_: finish(128 + signal.SIGTERM))
    if '--control' not in opts:
        while True:
            time.sleep(3600)
    ctl = opts['--control']
    try:
        os.unlink(ctl)
    except OSError:
        pass
    s = socket.socket(socket.AF_UNIX)
    s.bind(ctl)
    os.chmod(ctl, 0o600)
    s.listen(8)
    while True:
        c, _ = s.accept()
        f = c.makefile('rwb')
        for line in f:
            try:
                req = json.loads(line)
                cmd = req['cmd']
            except (ValueError, KeyError, TypeError):
                f.write(b'{"ok":false,"error":"malformed request"}\n')
                f.flush()
                continue
            if cmd == 'info':
                resp = {'ok': True, 'name': name, 'state': 'running',
                        'vcpus': [{'id': v, 'tid': os.getpid(), 'cpu': 0,
                                   'affinity': pins.get(v, '0')} for v in range(vcpus)],
                        'memory_kib': mem, 'exits': {'io': 1, 'mmio': 0, 'hlt': 1},
                        'unclaimed': {'pio_read': 0, 'pio_write': 0, 'mmio_read': 0,
                                      'mmio_write': 0}}
            elif cmd == 'vcpupin':
                pins[int(req['vcpu'])] = req['cpuset']
                resp = {'ok': True}
            elif cmd in ('shutdown', 'quit'):
                f.write(b'{"ok":true}\n')
                f.flush()
                finish(0)
            else:
                resp = {'ok': False, 'error': f'unknown command {cmd}'}
            f.write(json.dumps(resp).encode() + b'\n')
            f.flush()
        c.close()


if __name__ == '__main__':
    sys.exit(main())
