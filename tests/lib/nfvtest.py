# SPDX-License-Identifier: GPL-2.0-only
"""What the Python system-test drivers (tests/*/*.py) share: checks and waits, the JSON-lines
control protocol of nfv-switch and nfv-vmm, nfv-switch and dpdk-testpmd as processes, nfvd's
HTTP API and an in-process nfv-switch stand-in, /proc readers, temporary directories and the
clean-up of everything a run started.

A driver imports it through a path relative to its own file, so that it runs from any working
directory (meson runs `python3 path/to/driver.py`):

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
    import nfvtest as nt  # noqa: E402

State is per process and module-wide, as a driver is one process running one test: FAILS (the
messages of the failed checks), SKIPPED (the cases that could not run here) and PROCS (the
processes started through this module, or added by the driver, that kill_all() and run_cases()
end). Standard library only."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

FAILS = []
SKIPPED = []
PROCS = []

# How check() and skip() report: an 'ok:' line for passed checks too, and a time stamp.
_ok_lines = True
_timestamps = True


# ---- reporting ----

def report_style(ok_lines=True, timestamps=True):
    """Set how check(), skip() and run_cases() print: @ok_lines also prints 'ok: MSG' for the
    checks that pass (failures are always printed as 'FAIL: MSG'); @timestamps prefixes each
    line with the time as log() does. The default is both."""
    global _ok_lines, _timestamps
    _ok_lines, _timestamps = ok_lines, timestamps


def log(msg):
    """Print @msg with the time of day, flushed (the output of a test is read interleaved with
    that of the programs it runs)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def say(msg):
    """Print @msg in the style report_style() set."""
    if _timestamps:
        log(msg)
    else:
        print(msg, flush=True)


def check(cond, msg):
    """Record a failure when @cond is false (in FAILS, printed as 'FAIL: MSG'; a pass is printed
    as 'ok: MSG' unless report_style() said otherwise); returns @cond so a test can stop early
    on it."""
    if cond:
        if _ok_lines:
            say(f'ok: {msg}')
    else:
        say(f'FAIL: {msg}')
        FAILS.append(msg)
    return cond


def skip(msg):
    """A case that cannot run here: printed as 'SKIP: MSG' and counted in SKIPPED."""
    say(f'SKIP: {msg}')
    SKIPPED.append(msg)


def wait_for(pred, timeout=10.0, step=0.05):
    """Poll @pred every @step seconds until it returns something true or @timeout seconds have
    passed; returns its last value (so a wait that failed is a false value to check())."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


# ---- temporary directories, processes, one case after another ----

def remove_tmp(path):
    """Remove a test's temporary directory, or keep it (and say so) when NFV_KEEP is set."""
    if os.environ.get('NFV_KEEP'):
        print(f'kept {path}')
    else:
        shutil.rmtree(path, ignore_errors=True)


def stop(p, sig=signal.SIGTERM, timeout=20, group=False):
    """End process @p: @sig, then SIGKILL when it has not exited after @timeout seconds; with
    @group the signals go to its process group (a process started with start_new_session).
    Returns its exit status (negative: the signal that ended it)."""
    def send(s):
        try:
            if group:
                os.killpg(p.pid, s)
                return
        except OSError:     # no such group any more: the process itself, then
            pass
        try:
            p.send_signal(s)
        except OSError:
            pass
    if p.poll() is None:
        send(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            p.wait()
    return p.returncode


def kill_all():
    """SIGKILL whatever in PROCS still runs, reap it, and empty PROCS."""
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()
    PROCS.clear()


def run_cases(cases, names, prefix, logs=()):
    """Run the cases @names of the dict @cases (name -> function taking a fresh temporary
    directory), one after the other. An exception fails its case and the next one runs. After
    each: the processes in PROCS are killed, the time taken is printed, on a failure so far the
    tails of the files @logs in the temporary directory, and the directory is removed (see
    remove_tmp)."""
    for n in names:
        tmp = tempfile.mkdtemp(prefix=f'{prefix}{n}-')
        t0 = time.monotonic()
        try:
            cases[n](tmp)
        except Exception as e:  # report and go on with the next case
            check(False, f'{n}: {type(e).__name__}: {e}')
        finally:
            kill_all()
            say(f'{n}: {time.monotonic() - t0:.1f}s')
            for f in logs if FAILS else ():
                path = os.path.join(tmp, f)
                if os.path.exists(path):
                    print(open(path).read()[-2000:])
            remove_tmp(tmp)


def exit_status(ncases):
    """The status of a driver that ran @ncases cases: 1 on any failure, 77 (skipped) when every
    case was skipped, else 0."""
    if FAILS:
        return 1
    return 77 if ncases and len(SKIPPED) == ncases else 0


# ---- /proc ----

def proc_status(pid, task=None):
    """/proc/PID/status (of thread @task when given) as {field: value}, the value a string with
    the surrounding white space removed ('Uid' -> '0\\t0\\t0\\t0')."""
    path = f'/proc/{pid}/task/{task}/status' if task is not None else f'/proc/{pid}/status'
    with open(path) as f:
        return {k: v.strip() for k, sep, v in (line.partition(':') for line in f) if sep}


def proc_kib(pid, key='VmRSS'):
    """A size field of /proc/PID/status (VmRSS, RssAnon, ...) in KiB; 0 when it has none."""
    v = proc_status(pid).get(key, '')
    return int(v.split()[0]) if v else 0


def meminfo(key):
    """A field of /proc/meminfo as an int (KiB for sizes, a count for HugePages_*); 0 if none."""
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    return 0


def nfds(pid):
    """How many file descriptors process @pid has open."""
    return len(os.listdir(f'/proc/{pid}/fd'))


# ---- JSON-lines control sockets (nfv-switch --control, nfv-vmm --control) ----
# One request is one JSON object on one line; the answer is one line, an object with "ok" and
# either the data or "error".

def request_line(path, line, timeout=10):
    """Send the text @line on a new connection to the UNIX socket @path and return the answer
    line as text (empty when the peer closed without one)."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(line.encode() + b'\n')
        data = b''
        while not data.endswith(b'\n'):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return data.decode()


def wait_listen(path, p=None, timeout=30):
    """Wait until the UNIX socket @path accepts connections (its file exists from bind(), but
    connections work only from listen()); False when process @p exited first or @timeout
    seconds passed."""
    end = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return True
        except OSError:
            if (p is not None and p.poll() is not None) or time.monotonic() > end:
                return False
            time.sleep(0.05)
        finally:
            s.close()


def request(path, req, timeout=10):
    """Send the request @req (a dict) on a new connection to @path; returns the decoded answer."""
    return json.loads(request_line(path, json.dumps(req), timeout))


class Control:
    """One long-lived connection to a JSON-lines control socket."""

    def __init__(self, path, timeout=60):
        self.c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        for _ in range(100):    # the file appears at bind(), connections work after listen()
            try:
                self.c.connect(path)
                break
            except ConnectionRefusedError:
                time.sleep(0.05)
        self.c.settimeout(timeout)  # a wedged server fails the test instead of hanging it
        self.f = self.c.makefile('rwb')

    def raw(self, line):
        """Send @line (text or bytes, sent as it is) and return the decoded answer."""
        self.f.write(line if isinstance(line, bytes) else line.encode())
        self.f.write(b'\n')
        self.f.flush()
        return json.loads(self.f.readline())

    def ctl(self, **req):
        """Send the request made of the keyword arguments; returns the answer."""
        return self.raw(json.dumps(req))

    def ok(self, **req):
        """As ctl(), raising RuntimeError unless the answer says ok."""
        r = self.ctl(**req)
        if not r.get('ok'):
            raise RuntimeError(f'{req} -> {r}')
        return r

    def close(self):
        self.f.close()
        self.c.close()


# ---- nfv-switch and dpdk-testpmd ----

def switch_cmd(binary, sock, prefix, memory=512, lcores=('-l', '0,1'), eal=(), args=()):
    """The command line of nfv-switch as the tests run it: DPDK without hugepages or PCI, with
    its own --file-prefix @prefix (so runs do not meet in /var/run/dpdk), control socket
    @sock; @eal are more EAL options, @args more nfv-switch options."""
    return [binary, '--no-huge', '--no-pci', '-m', str(memory), '--file-prefix', prefix,
            *lcores, *eal, '--', '--control', sock, *args]


class Switch(Control):
    """nfv-switch in @tmp (control socket ctl.sock, output in switch.log) with a control
    connection; lcore 1 (cpu 1) runs the PMD by default. Raises RuntimeError when it does not
    come up within @timeout seconds."""

    def __init__(self, binary, tmp, extra=(), pmd_args=(), lcores=('-l', '0,1'), timeout=20):
        self.sock = os.path.join(tmp, 'ctl.sock')
        self.logf = open(os.path.join(tmp, 'switch.log'), 'w')
        cmd = switch_cmd(binary, self.sock, f'nfvsw{os.getpid()}', lcores=lcores,
                         eal=['--log-level=lib.vhost.*:warning', *extra],
                         args=['--mbufs', '8191', *pmd_args])
        log('start: ' + ' '.join(cmd))
        self.p = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        PROCS.append(self.p)
        if not wait_for(lambda: os.path.exists(self.sock) or self.p.poll() is not None,
                        timeout, 0.1):
            raise RuntimeError('switch did not start')
        if self.p.poll() is not None:
            raise RuntimeError('switch exited: ' + open(self.logf.name).read()[-2000:])
        super().__init__(self.sock)

    def stats(self, port):
        """The counters of port @port."""
        return self.ok(cmd='stats', port=port)['ports'][0]

    def port(self, name):
        """The port-list entry of @name, or None."""
        for p in self.ok(cmd='port-list')['ports']:
            if p['name'] == name:
                return p
        return None

    def wait_link(self, name, state='up', timeout=20):
        """Wait until port @name's link is @state; returns whether it got there."""
        return wait_for(lambda: (self.port(name) or {}).get('link') == state, timeout, 0.1)

    def fdb(self):
        return self.ok(cmd='fdb-show')

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        """SIGTERM, SIGKILL after 20 s; returns the exit status."""
        return stop(self.p)


class TestPmd:
    """dpdk-testpmd @binary in interactive mode with the vdevs @vdevs, driven through its stdin;
    its own --file-prefix, lcores @cores (by default both on cpu 0)."""
    n = 0

    def __init__(self, binary, vdevs, fwd, extra=(), cores='0@0,1@0'):
        TestPmd.n += 1
        self.name = f'tp{TestPmd.n}'
        # stdbuf: testpmd's stdout is a pipe here; line buffering lets us follow its answers.
        cmd = ['stdbuf', '-oL', binary, '--no-huge', '--no-pci', '-m', '256',
               '--file-prefix', f'nfvtp{os.getpid()}-{TestPmd.n}', '--lcores', cores,
               '--log-level=pmd.net.virtio.*:error']
        for v in vdevs:
            cmd += ['--vdev', v]
        cmd += ['--', '-i', f'--forward-mode={fwd}', '--total-num-mbufs=4096', *extra]
        log(f'{self.name}: ' + ' '.join(cmd))
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        PROCS.append(self.p)
        self.out = b''
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()
        if not self.wait_for(b'testpmd> ', 0, 30):
            raise RuntimeError(f'{self.name} did not start: {self.out[-2000:]!r}')

    def _reader(self):
        while True:
            d = os.read(self.p.stdout.fileno(), 65536)
            if not d:
                return
            with self.lock:
                self.out += d

    def wait_for(self, pat, start, timeout=15):
        """Wait for bytes @pat in the output from offset @start; returns the offset just past
        it, 0 on time-out or exit."""
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                i = self.out.find(pat, start)
            if i >= 0:
                return i + len(pat)
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        return 0

    def cmd(self, line, until=b'testpmd> ', timeout=15):
        """Run one command; returns the output from the command up to and including @until."""
        with self.lock:
            start = len(self.out)
        self.p.stdin.write(line.encode() + b'\n')
        self.p.stdin.flush()
        end = self.wait_for(until, start, timeout)
        if not end:
            raise RuntimeError(f'{self.name}: no {until!r} after {line!r}')
        with self.lock:
            return self.out[start:end].decode(errors='replace')

    def start(self):
        self.cmd('start')

    def stop(self):
        return self.cmd('stop', until=b'Done.')

    def stats(self):
        """{port: {rx_packets, rx_bytes, tx_packets, tx_bytes}} from 'show port stats all'."""
        text = self.cmd('show port stats all', until=b'Tx-bps')
        res = {}
        if 'NIC statistics' not in text:
            log(f'{self.name}: unexpected stats output {text[-800:]!r}')
        for m in re.finditer(r'NIC statistics for port (\d+).*?RX-packets:\s*(\d+).*?RX-bytes:\s*(\d+)'
                             r'.*?TX-packets:\s*(\d+).*?TX-bytes:\s*(\d+).*?Tx-bps', text, re.S):
            res[int(m.group(1))] = dict(rx_packets=int(m.group(2)), rx_bytes=int(m.group(3)),
                                        tx_packets=int(m.group(4)), tx_bytes=int(m.group(5)))
        return res

    def close(self):
        """'quit', SIGKILL when that does not end it within 15 s."""
        if self.p.poll() is None:
            try:
                self.p.stdin.write(b'quit\n')
                self.p.stdin.flush()
                self.p.wait(15)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait()

    def kill(self):
        self.p.kill()
        self.p.wait()


def vu(path, mac, server=False, queues=1):
    """A virtio_user vdev for testpmd on the vhost-user socket @path."""
    return (f'net_virtio_user0,path={path},mac={mac},queues={queues}'
            + (',server=1' if server else ''))


def mac(n):
    """The test MAC address number @n (locally administered unicast)."""
    return f'02:00:00:00:00:{n:02x}'


def burst(tp, seconds=1.0):
    """Let testpmd @tp forward (or send) for @seconds."""
    tp.start()
    time.sleep(seconds)
    tp.stop()


def settle(sw, names, timeout=5):
    """Wait until the switch counters of @names stop moving (rings drained)."""
    prev = None
    for _ in range(int(timeout / 0.3)):
        cur = [sw.stats(n) for n in names]
        cur = [(c['rx_packets'], c['tx_packets']) for c in cur]
        if cur == prev:
            return
        prev = cur
        time.sleep(0.3)


# ---- nfvd: its HTTP API on a UNIX socket, domain XML, an nfv-switch stand-in ----

def recv_all(s, until=None, end=None):
    """The bytes socket @s receives until the peer closes, a receive times out (settimeout), the
    bytes @until have arrived or time.monotonic() passes @end, whichever comes first."""
    out = b''
    while (until is None or until not in out) and (end is None or time.monotonic() < end):
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        out += chunk
    return out


def _api_sock(env):
    return env if isinstance(env, str) else env.sock


def raw(env, data, shut=True, timeout=10):
    """Send the bytes @data to nfvd's API socket (@env: its path, or an object whose .sock is
    it), half-close when @shut, and return all the bytes that come back until nfvd closes or
    @timeout seconds pass without any."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(_api_sock(env))
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    out = recv_all(s)
    s.close()
    return out


def http(method, path, body=None, ctype='application/json', env=None):
    """One HTTP/1.1 request to nfvd's API (@env as for raw()); returns (status, decoded JSON
    body or None, body bytes)."""
    hdr = f'{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n'
    if body is not None:
        if isinstance(body, str):
            body = body.encode()
        hdr += f'Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n'
    elif method in ('POST', 'PUT'):
        hdr += 'Content-Length: 0\r\n'
    out = raw(env, hdr.encode() + b'\r\n' + (body or b''))
    head, _, payload = out.partition(b'\r\n\r\n')
    status = int(head.split(b' ')[1]) if head else 0
    try:
        j = json.loads(payload) if payload[:1] in (b'{', b'[') else None
    except ValueError:
        j = None
    return status, j, payload


def domain_xml(name, kernel, port_dev=None, vlan=10, pins='', desc='', on_crash='destroy',
               extra_dev='', mac=None, cmdline=None, cpuset=None, bridge='nfv-switch',
               on_reboot=None):
    """A small libvirt domain (64 MiB, one vCPU, a serial port) booting @kernel; with @port_dev
    an access-VLAN @vlan virtio interface of that name on @bridge; @extra_dev is more XML in
    <devices>."""
    iface = ''
    mac = mac or '52:54:00:aa:%02x:%02x' % (len(name), sum(name.encode()) % 256)
    if port_dev:
        iface = (f"<interface type='bridge'><mac address='{mac}'/>"
                 f"<source bridge='{bridge}'/><vlan><tag id='{vlan}'/></vlan>"
                 f"<target dev='{port_dev}'/><model type='virtio'/></interface>")
    return f"""<domain type='kvm'>
  <name>{name}</name>
  <description>{desc}</description>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static'{f" cpuset='{cpuset}'" if cpuset else ''}>1</vcpu>
  {f"<cputune><vcpupin vcpu='0' cpuset='{pins}'/></cputune>" if pins else ''}
  <os><type arch='x86_64'>hvm</type><kernel>{kernel}</kernel>{f'<cmdline>{cmdline}</cmdline>' if cmdline else ''}</os>
  {f'<on_reboot>{on_reboot}</on_reboot>' if on_reboot else ''}
  <on_crash>{on_crash}</on_crash>
  <devices>
    {iface}
    <serial type='pty'><target port='0'/></serial>
    {extra_dev}
  </devices>
</domain>
"""


class FakeSwitch:
    """In-process nfv-switch control socket at @path: ports with counters, no data path."""

    def __init__(self, path):
        self.path = path
        self.ports = {}
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(8)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.client, args=(c,), daemon=True).start()

    def client(self, c):
        f = c.makefile('rwb')
        for line in f:
            req = json.loads(line)
            f.write(json.dumps(self.handle(req)).encode() + b'\n')
            f.flush()
        c.close()

    def handle(self, req):
        cmd = req.get('cmd')
        if cmd == 'port-add':
            if req['name'] in self.ports:
                return {'ok': False, 'error': f"port '{req['name']}' exists"}
            allowed = {'cmd', 'name', 'type', 'path', 'mode', 'queues', 'vlan_mode', 'vlan',
                       'trunks'}
            if set(req) - allowed:
                return {'ok': False, 'error': 'unknown field'}
            self.ports[req['name']] = dict(req, link=False, rx_packets=5, rx_bytes=320,
                                           tx_packets=7, tx_bytes=448)
            return {'ok': True}
        if cmd == 'port-del':
            if self.ports.pop(req['name'], None) is None:
                return {'ok': False, 'error': 'no such port'}
            return {'ok': True}
        if cmd == 'port-list':
            return {'ok': True, 'ports': [
                {k: p.get(k) for k in ('name', 'type', 'path', 'mode', 'link', 'vlan_mode',
                                       'vlan', 'trunks')} for p in self.ports.values()]}
        if cmd == 'fdb-show':
            return {'ok': True, 'fdb': []}
        if cmd == 'stats':
            return {'ok': True, 'ports': [
                {'name': p['name'], 'rx_packets': p['rx_packets'], 'rx_bytes': p['rx_bytes'],
                 'tx_packets': p['tx_packets'], 'tx_bytes': p['tx_bytes'], 'drop_no_buffers': 0,
                 'drop_queue_full': 0, 'drop_vlan': 0, 'drop_malformed': 0}
                for p in self.ports.values()]}
        return {'ok': False, 'error': 'unknown command'}

    def close(self):
        self.sock.close()


def nfvd_cmd(nfvd, state, run, vmm, extra=()):
    """nfvd's command line with its own state directory @state and run directory @run (API
    socket RUN/nfvd.sock, switch control socket RUN/switch.sock), VMM binary @vmm."""
    return [nfvd, '--state-dir', state, '--run-dir', run, '--socket',
            os.path.join(run, 'nfvd.sock'), '--switch-socket', os.path.join(run, 'switch.sock'),
            '--vmm', vmm, *extra]


def start_logged(cmd, logpath, **kw):
    """Start @cmd with stdout and stderr appended to @logpath; the process joins PROCS."""
    with open(logpath, 'a') as logf:
        p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, **kw)
    PROCS.append(p)
    return p
