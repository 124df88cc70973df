/** Environment, identity, time and lookup utilities. */
import { describe, expect, it } from 'vitest';
import { makeFs, run } from '../helpers.js';

type Row = [
  string,
  { stdout?: string; stderr?: string; exitCode?: number },
  { user?: string; env?: Record<string, string> }?,
];

async function table(rows: Row[]): Promise<void> {
  for (const [script, expected, opts] of rows) {
    const fs = await makeFs({ 'usr/bin/curl': { content: 'binary', mode: 0o755 }, 'data/f': 'abc' });
    const r = await run(script, {
      fs,
      env: opts?.env ?? { PATH: '/usr/bin:/bin', HOME: '/root' },
      user: opts?.user ?? '',
    });
    const picked: Row[1] = { exitCode: r.exitCode };
    if (expected.stdout !== undefined) picked.stdout = r.stdout;
    if (expected.stderr !== undefined) picked.stderr = r.stderr;
    expect({ script, ...picked }).toEqual({ script, exitCode: 0, ...expected });
  }
}

describe('env and printenv', () => {
  it.each<Row>([
    [
      'env',
      { stdout: 'A=1\nB=two\nHOME=/root\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nPWD=/\n' },
      { env: { A: '1', B: 'two' } },
    ],
    ['env -i C=3 env', { stdout: 'C=3\n' }, { env: { A: '1' } }],
    [
      'env -u A -u HOME -u PATH -u PWD env; env -uB env | grep -c B=',
      { stdout: 'B=2\n0\n', exitCode: 1 },
      { env: { A: '1', B: '2' } },
    ],
    ['env X=1 Y=2 sh -c "echo \\$X\\$Y"', { stdout: '12\n' }],
    ['env - PATH=/bin printenv PATH', { stdout: '/bin\n' }],
    ['env nosuch; echo $?', { stdout: '127\n' }],
    ['env -z', { stderr: "env: invalid option -- 'z'\n", exitCode: 2 }],
    ['printenv HOME; printenv NOPE; echo $?', { stdout: '/root\n1\n' }],
    ['FOO=bar printenv FOO; printenv | grep -c HOME', { stdout: 'bar\n1\n' }],
  ])('%s', async (...row) => table([row as Row]));
});

describe('id, whoami', () => {
  it.each<Row>([
    ['id', { stdout: 'uid=0(root) gid=0(root) groups=0(root)\n' }],
    ['id', { stdout: 'uid=1000(appuser) gid=1000(appuser) groups=1000(appuser),50(staff)\n' }, { user: 'appuser' }],
    [
      'id -u; id -g; id -G; id -un; id -gn; id -Gn',
      { stdout: '1000\n1000\n1000 50\nappuser\nappuser\nappuser staff\n' },
      { user: 'appuser' },
    ],
    ['id', { stdout: 'uid=1000(appuser) gid=50(staff) groups=50(staff)\n' }, { user: 'appuser:staff' }],
    ['id', { stdout: 'uid=4242 gid=0(root) groups=0(root)\n' }, { user: '4242' }],
    ['id', { stdout: 'uid=4242 gid=77 groups=77\n' }, { user: '4242:77' }],
    ['id -un', { stdout: '4242\n', exitCode: 1 }, { user: '4242' }],
    ['id nobody; id -u appuser', { stdout: 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n1000\n' }],
    ['id ghost', { stderr: 'id: unknown user ghost\n', exitCode: 1 }],
    ['whoami', { stdout: 'root\n' }],
    ['whoami', { stdout: 'appuser\n' }, { user: '1000' }],
    ['whoami', { stderr: 'whoami: unknown uid 4242\n', exitCode: 1 }, { user: '4242' }],
  ])('%s (%j)', async (...row) => table([row as Row]));
});

describe('date, touch times, hostname, uname', () => {
  const sde = { PATH: '/bin', SOURCE_DATE_EPOCH: '1700000000' };
  it.each<Row>([
    ['date', { stdout: 'Tue Nov 14 22:13:20 UTC 2023\n' }, { env: sde }],
    [
      'date +%s; date -u "+%Y-%m-%d %H:%M:%S %Z %z %j %a %A %b %B %e %y %C %u %w %p %I %%"',
      { stdout: '1700000000\n2023-11-14 22:13:20 UTC +0000 318 Tue Tuesday Nov November 14 23 20 2 2 PM 10 %\n' },
      { env: sde },
    ],
    [
      'date -d @0 +%FT%T; date -d "2000-02-29 12:00" +%s; date -d 2024-01-01T00:00:00Z +%s',
      { stdout: '1970-01-01T00:00:00\n951825600\n1704067200\n' },
      { env: sde },
    ],
    ['date -d "2024-01-01 01:00:00 +0100" +%s', { stdout: '1704067200\n' }, { env: sde }],
    [
      'date -R; date -I; date -Iseconds',
      { stdout: 'Tue, 14 Nov 2023 22:13:20 +0000\n2023-11-14\n2023-11-14T22:13:20+00:00\n' },
      { env: sde },
    ],
    ['touch -d @42 /data/f; date -r /data/f +%s', { stdout: '42\n' }, { env: sde }],
    ['date -d tomorrow', { stderr: "date: invalid date 'tomorrow'\n", exitCode: 1 }, { env: sde }],
    ['date 0101', { exitCode: 2 }, { env: sde }],
    ['date +%Y | grep -c "^20[0-9][0-9]$"', { stdout: '1\n' }],
    ['hostname', { stdout: 'buildkitsandbox\n' }],
    ['hostname', { stdout: 'box\n' }, { env: { HOSTNAME: 'box' } }],
    ['echo fromfile > /etc/hostname; hostname', { stdout: 'fromfile\n' }],
    ['uname; uname -m; uname -a', { stdout: 'Linux\nx86_64\nLinux buildkitsandbox 6.0.0 #1 SMP x86_64 GNU/Linux\n' }],
    ['uname -sm', { stdout: 'Linux aarch64\n' }, { env: { TARGETARCH: 'arm64' } }],
  ])('%s', async (...row) => table([row as Row]));
});

describe('sleep, pwd, true, false, which, checksums', () => {
  it.each<Row>([
    ['sleep 0.01; sleep 0.001s 0.001; echo $?', { stdout: '0\n' }],
    ['sleep', { stderr: 'sleep: missing operand\n', exitCode: 2 }],
    ['sleep x', { stderr: "sleep: invalid number 'x'\n", exitCode: 2 }],
    ['cd /data; pwd; pwd -P; mkdir /real; ln -s /real /l; cd /l; pwd; pwd -P', { stdout: '/data\n/data\n/l\n/real\n' }],
    ['true; echo $?; false; echo $?; true --help extra; echo $?', { stdout: '0\n1\n0\n' }],
    ['which curl ls; which nosuch; echo $?; which -a sh', { stdout: '/usr/bin/curl\n/bin/ls\n1\n/bin/sh\n' }],
    ['which /usr/bin/curl /nope; echo $?', { stdout: '/usr/bin/curl\n1\n' }],
    [
      'sha256sum /data/f; printf abc | sha1sum; printf abc | md5sum; printf abc | sha512sum | cut -c 1-16',
      {
        stdout:
          'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  /data/f\na9993e364706816aba3e25717850c26c9cd0d89d  -\n900150983cd24fb0d6963f7d28e17f72  -\nddaf35a193617aba\n',
      },
    ],
    [
      'sha256sum /data/f > /data/sums; sha256sum -c /data/sums; echo abd > /data/f; sha256sum -c /data/sums; echo $?',
      {
        stdout: '/data/f: OK\n/data/f: FAILED\n1\n',
        stderr: 'sha256sum: WARNING: 1 computed checksum did NOT match\n',
      },
    ],
    [
      'echo "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  /data/f" | sha256sum -c --status -; echo $?',
      { stdout: '0\n' },
    ],
    ['sha256sum /nope', { stderr: 'sha256sum: /nope: No such file or directory\n', exitCode: 1 }],
  ])('%s', async (...row) => table([row as Row]));
});
