#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Privilege and seccomp refusals of nfv-vmm and nfvd (docs/security.md, "How it is tested").

Each case runs the real binaries: nfv-vmm with a freestanding guest (hello.elf) and nfvd with its
real API socket. Needs root (to start nfv-vmm as root and drop to uid 65534) and /dev/kvm; skipped
(77) otherwise. Every process started here is ended by pid; temporary files go in one tmpdir.

  sandbox_test.py --vmm build/vmm/nfv-vmm --guest build/tests/guest/hello.elf
                  [--nfvd build/mgmt/nfvd] [case ...]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import nfvtest as nt  # noqa: E402
from nfvtest import check, wait_for, FAILS  # noqa: E402

ARGS = None
NOBODY = 65534
# The API client runs as uid 65534: a system interpreter it may execute.
# nfvd's --socket-group in the group case: a group uid 65534 (gid 65534) is not in.
SOCK_GROUP = 'users'
CLIENT_PY = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable


def vmm(tmp, *extra, timeout=60, **kw):
    """Run nfv-vmm with hello.elf to completion; returns (returncode, log text)."""
    log = os.path.join(tmp, 'vmm.log')
    if os.path.exists(log):
        os.unlink(log)
    try:
        p = subprocess.run([ARGS.vmm, '--kernel', ARGS.guest, '--serial', 'none',
                            '--log-file', log, *extra], capture_output=True, text=True,
                           timeout=timeout, **kw)
        rc = p.returncode
        out = p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        rc, out = 'timeout', ''
    text = open(log).read() if os.path.exists(log) else ''
    return rc, text + out


def proc_status(pid):
    """/proc/PID/status as {field: [words]}."""
    return {k: v.split() for k, v in nt.proc_status(pid).items()}


def case_confined_guest(tmp):
    """nfv-vmm started as root, --user 65534, seccomp on: the guest runs and passes, the process
    holds no root id, no capability, NO_NEW_PRIVS and seccomp mode 2; the control socket (info,
    stats, dirty log, live re-pin) works under the filter; the end-of-run stats file is written."""
    ctl = os.path.join(tmp, 'ctl.sock')
    stats = os.path.join(tmp, 'stats.json')
    log = os.path.join(tmp, 'confined.log')
    # The control socket's directory must stay writable by the dropped user for the unlink.
    os.chmod(tmp, 0o777)
    p = subprocess.Popen([ARGS.vmm, '--kernel', ARGS.guest, '--guest-args', 'wait', '--serial',
                          'stdio', '--user', f'{NOBODY}:{NOBODY}', '--seccomp', 'on',
                          '--control', ctl, '--stats-file', stats, '--log-file', log],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        out = b''
        end = time.monotonic() + 60
        while b'ready' not in out and time.monotonic() < end:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            out += chunk
        if not check(b'ready' in out, 'confined guest got ready'):
            return
        st = proc_status(p.pid)
        check(st['Uid'] == [str(NOBODY)] * 4, f'all uids are {NOBODY}: {st["Uid"]}')
        check(st['Gid'] == [str(NOBODY)] * 4, f'all gids are {NOBODY}: {st["Gid"]}')
        check(st.get('Groups', []) in ([], [str(NOBODY)]), f'no extra groups: {st.get("Groups")}')
        check(int(st['CapEff'][0], 16) == 0 and int(st['CapPrm'][0], 16) == 0,
              f'no capabilities: {st["CapEff"]} {st["CapPrm"]}')
        check(st.get('NoNewPrivs') == ['1'], 'NO_NEW_PRIVS set')
        check(st.get('Seccomp') == ['2'], f'seccomp filter mode: {st.get("Seccomp")}')
        info = nt.request(ctl, {'cmd': 'info'})
        check(info.get('ok', True) and 'vcpus' in json.dumps(info), f'control info: {info}')
        check('exits' in json.dumps(nt.request(ctl, {'cmd': 'stats'})), 'control stats')
        check(nt.request(ctl, {'cmd': 'dirty-log', 'enable': True}).get('ok', True), 'dirty log on')
        check('pages' in nt.request(ctl, {'cmd': 'dirty-log-get'}), 'dirty log fetch')
        check(nt.request(ctl, {'cmd': 'dirty-log', 'enable': False}).get('ok', True), 'dirty log off')
        r = nt.request(ctl, {'cmd': 'vcpupin', 'vcpu': 0, 'cpuset': '0'})
        check('error' not in r or 'CPU' in r.get('error', ''), f'live re-pin: {r}')
        p.stdin.write(b'g')
        p.stdin.flush()
        rc = p.wait(60)
        text = open(log).read()
        check(rc == 0, f'confined guest passed (rc {rc})')
        check(f'running as uid {NOBODY}' in text, 'log says which user')
        check('seccomp filter installed (on' in text, 'log says seccomp on')
        check(os.path.exists(stats) and 'exits' in open(stats).read(), 'stats file written')
        if rc != 0:
            print(text[-3000:])
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def case_default_on(tmp):
    """seccomp is on without any option, and --seccomp-selftest is killed by it (SIGSYS)."""
    rc, text = vmm(tmp)
    check(rc == 0 and 'seccomp filter installed (on' in text, f'default run is confined (rc {rc})')
    rc, text = vmm(tmp, '--seccomp-selftest')
    check(rc == -signal.SIGSYS, f'forbidden call kills nfv-vmm with SIGSYS (rc {rc})')
    check('returned' not in text, 'nothing ran after the forbidden call')
    rc, text = vmm(tmp, '--seccomp-selftest', '--user', 'nobody')
    check(rc == -signal.SIGSYS, f'... also after dropping to nobody (rc {rc})')
    rc, text = vmm(tmp, '--seccomp-selftest', '--seccomp', 'log')
    check(rc == 0 and 'forbidden personality() returned' in text,
          f'--seccomp log lets the call through and logs it (rc {rc})')
    rc, text = vmm(tmp, '--seccomp', 'off')
    check(rc == 0 and 'seccomp is off' in text, f'--seccomp off says so (rc {rc})')


def case_refusals(tmp):
    """bad --user/--seccomp values are configuration errors (status 2) naming the value"""
    for args, want in ((['--user', 'no-such-user-xyz'], "no such user 'no-such-user-xyz'"),
                       (['--user', '0'], 'refusing'),
                       (['--user', 'root'], 'refusing'),
                       (['--user', '4000000'], 'give UID:GID'),
                       (['--user', f'{NOBODY}:no-such-group-xyz'], 'not a group'),
                       (['--seccomp', 'maybe'], "'maybe' is not on, log or off")):
        rc, text = vmm(tmp, *args)
        check(rc == 2 and want in text, f'{" ".join(args)}: rc {rc}, says "{want}"')


def drop_to_nobody():
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


def case_no_kvm(tmp):
    """a user without access to /dev/kvm gets a clear error and status 2, nothing else"""
    if os.stat('/dev/kvm').st_mode & 0o006:
        print('/dev/kvm is world-accessible here: case skipped')
        return
    os.chmod(tmp, 0o777)
    rc, text = vmm(tmp, preexec_fn=drop_to_nobody)
    check(rc == 2, f'without /dev/kvm access: status 2 (rc {rc})')
    check('/dev/kvm: Permission denied' in text and 'may this user open it' in text,
          f'clear message: {text.strip()[-300:]}')
    rc, text = vmm(tmp, '--user', 'nobody', preexec_fn=drop_to_nobody)
    check(rc == 2 and '/dev/kvm' in text, 'an unprivileged --user run fails the same way')


def case_nfvd_socket(tmp):
    """nfvd's API socket is 0600 (0660 with --socket-group), and a client without access is
    refused by the kernel before nfvd reads a byte"""
    if not ARGS.nfvd:
        print('no --nfvd: case skipped')
        return
    # Directories open to everyone, so only the socket's own mode can refuse the client.
    os.chmod(tmp, 0o755)
    for extra, mode in (([], 0o600), (['--socket-group', SOCK_GROUP], 0o660)):
        run = tempfile.mkdtemp(dir=tmp)
        os.chmod(run, 0o755)
        sock = os.path.join(run, 'nfvd.sock')
        p = nt.start_logged(nt.nfvd_cmd(ARGS.nfvd, os.path.join(run, 'state'), run, ARGS.vmm,
                                        ['--no-autostart', *extra]), os.path.join(tmp, 'nfvd.log'))
        try:
            if not check(wait_for(lambda: os.path.exists(sock), 10), 'nfvd socket appears'):
                continue
            st = os.stat(sock)
            check(st.st_mode & 0o777 == mode, f'nfvd {extra}: socket mode {oct(st.st_mode & 0o777)}')
            client = ('import socket,sys\ns=socket.socket(socket.AF_UNIX)\n'
                      'try:\n s.connect(sys.argv[1])\nexcept PermissionError:\n sys.exit(13)\n'
                      's.sendall(b"GET /domains HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")\n'
                      'sys.exit(0 if s.recv(100).startswith(b"HTTP/1.1 200") else 1)\n')
            r = subprocess.run([CLIENT_PY, '-c', client, sock], preexec_fn=drop_to_nobody,
                               timeout=20)
            check(r.returncode == 13, f'uid {NOBODY} outside the group is refused (rc {r.returncode})')
            r = subprocess.run([CLIENT_PY, '-c', client, sock], timeout=20)
            check(r.returncode == 0, f'the owner is served (rc {r.returncode})')
            if mode == 0o660:
                import grp
                check(st.st_gid == grp.getgrnam(SOCK_GROUP).gr_gid, f'socket group is {SOCK_GROUP}')

                def in_group():
                    os.setgroups([grp.getgrnam(SOCK_GROUP).gr_gid])
                    os.setresgid(NOBODY, NOBODY, NOBODY)
                    os.setresuid(NOBODY, NOBODY, NOBODY)
                r = subprocess.run([CLIENT_PY, '-c', client, sock], preexec_fn=in_group,
                                   timeout=20)
                check(r.returncode == 0, f'a member of the socket group is served (rc {r.returncode})')
        finally:
            nt.stop(p, timeout=10)


def case_nfvd_vmm_user(tmp):
    """nfvd's --vmm-user refuses what nfv-vmm could not drop to, at nfvd's start (status 2,
    naming the value) rather than at the first domain start"""
    if not ARGS.nfvd:
        print('no --nfvd: case skipped')
        return
    for spec, want in (('no-such-user-xyz', "no user 'no-such-user-xyz'"),
                       ('root', 'must not be 0'), ('0:0', 'must not be 0'),
                       (f'{NOBODY}:0', 'must not be 0'), ('4000000', 'needs a group'),
                       (f'{NOBODY}:no-such-group-xyz', "no group 'no-such-group-xyz'")):
        run = tempfile.mkdtemp(dir=tmp)
        try:
            p = subprocess.run([ARGS.nfvd, '--state-dir', os.path.join(run, 'state'),
                                '--run-dir', run, '--vmm', ARGS.vmm, '--no-autostart',
                                '--vmm-user', spec], capture_output=True, text=True, timeout=20)
            rc, out = p.returncode, p.stdout + p.stderr
        except subprocess.TimeoutExpired:
            rc, out = 'timeout', ''
        check(rc == 2 and want in out and not os.path.exists(os.path.join(run, 'nfvd.sock')),
              f'nfvd --vmm-user {spec}: rc {rc}, says "{want}": {out.strip()[-200:]}')


def case_direct_unprivileged(tmp):
    """nfv-vmm started directly as the unprivileged 'nfvisor' user (tools/setup creates it,
    member of group kvm): no root at any point; guest RAM falls back from the root-owned
    hugetlbfs directory to memfd, and the guest passes"""
    import pwd
    try:
        pw = pwd.getpwnam('nfvisor')
    except KeyError:
        print("no user 'nfvisor' (tools/setup creates it): case skipped")
        return
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return

    def as_nfvisor():
        os.initgroups('nfvisor', pw.pw_gid)
        os.setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid)
        os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)
    os.chmod(tmp, 0o777)
    rc, text = vmm(tmp, preexec_fn=as_nfvisor)
    check(rc == 0, f'hello.elf under nfv-vmm run as nfvisor: status {rc}: {text.strip()[-400:]}')


CASES = [case_confined_guest, case_default_on, case_refusals, case_no_kvm, case_nfvd_socket,
         case_nfvd_vmm_user, case_direct_unprivileged]


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument('--vmm', required=True)
    ap.add_argument('--guest', required=True, help='hello.elf')
    ap.add_argument('--nfvd')
    ap.add_argument('cases', nargs='*')
    ARGS = ap.parse_args()
    nt.report_style(ok_lines=True, timestamps=False)
    if os.geteuid() != 0 or not os.path.exists('/dev/kvm'):
        print('needs root and /dev/kvm: skipped')
        return 77
    try:
        import pwd
        pwd.getpwuid(NOBODY)
    except KeyError:
        subprocess.run(['useradd', '-r', '-u', str(NOBODY), '-M', '-s', '/usr/sbin/nologin',
                        'nobody'], check=False)
    cases = {c.__name__: c for c in CASES}
    nt.run_cases(cases, [n for n in cases if not ARGS.cases or n in ARGS.cases], 'nfv-sandbox-')
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main())
