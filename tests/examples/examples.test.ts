/**
 * Runs every lesson in examples/ against the built package (built first when dist/ is missing or
 * was built from other sources: tests/helpers/dist.ts) and checks that what it prints still teaches what its README says.
 */
import { beforeAll, describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeUnavailable } from '../../src/index.js';
import { builtDist } from '../helpers/dist.js';
import { hasTool } from '../helpers/tools.js';

const hasRegistry = hasTool('docker-registry');

const ROOT = new URL('../..', import.meta.url).pathname;

const outputs = new Map<string, string>();
/** A lesson's output (each lesson runs once per test file; its kept stores go to LESSONS). */
function run(name: string): string {
  let out = outputs.get(name);
  if (out === undefined) {
    out = execFileSync(process.execPath, [join(ROOT, 'examples', name, 'run.mjs')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', LAYERKIT_LESSONS: LESSONS },
    });
    outputs.set(name, out);
  }
  return out;
}

let LESSONS: string;
it.beforeAll(({ fileTmp }) => {
  LESSONS = fileTmp;
});

/** The commands a lesson tells the reader to run: its `  $ layerkit ...` lines. */
function suggested(out: string): string[] {
  return [...out.matchAll(/^ {2}\$ (layerkit .*)$/gm)].map((m) => m[1]!);
}

/** The lines of one numbered section (`== 3. ... ==`) of an example's output. */
function section(out: string, n: number): string {
  const start = out.indexOf(`== ${n}.`);
  const end = out.indexOf('\n== ', start + 1);
  return out.slice(start, end < 0 ? undefined : end);
}

beforeAll(() => {
  builtDist();
}, 600_000);

describe('examples', () => {
  it('every example folder has a README and a run.mjs, and the README table lists it', () => {
    const examples = readdirSync(join(ROOT, 'examples')).filter((d) =>
      existsSync(join(ROOT, 'examples', d, 'run.mjs')),
    );
    expect(examples.length).toBeGreaterThanOrEqual(6);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const e of examples) {
      expect(existsSync(join(ROOT, 'examples', e, 'README.md'))).toBe(true);
      expect(readme).toContain(`npm run example -- ${e}`);
    }
  });

  it('layer-caching: an edit misses COPY with the file named, re-runs the install, and the reordered file keeps it cached', () => {
    const out = run('layer-caching');
    expect(section(out, 1)).toMatch(/COPY \. \.\s+built\s+<- no earlier build of this step/);
    expect(section(out, 2)).not.toMatch(/\bbuilt\b/);
    expect(section(out, 3)).toMatch(
      /COPY \. \.\s+built\s+<- a source file changed: src\/index\.js modified: content \(30 → 57 bytes\)/,
    );
    expect(section(out, 3)).toMatch(/RUN mkdir.*built\s+<- an earlier step produced a different result/);
    expect(section(out, 4)).toMatch(
      /RUN mkdir.*CACHED[\s\S]*COPY src\/ \.\/src\/\s+built\s+<- a source file changed: src\/index\.js modified/,
    );
    expect(section(out, 5)).toContain('4 of 4 steps cached');
  });

  it('multi-stage: the unused stage is skipped, the release is much smaller, --target test skips release', () => {
    const out = run('multi-stage');
    expect(section(out, 1)).toMatch(/stage test\s+skipped/);
    expect(section(out, 1)).toMatch(/stage release\s+built/);
    const ratio = Number(/the release is (\d+)x smaller/.exec(out)?.[1]);
    expect(ratio).toBeGreaterThan(100);
    expect(section(out, 3)).toMatch(/stage release\s+skipped/);
    expect(section(out, 2)).toContain('4 builder steps were CACHED');
  });

  it('copy-on-write: the committed layer has the whiteouts and the opaque marker, and the base is unchanged', () => {
    const out = run('copy-on-write');
    const tar = section(out, 3);
    expect(tar).toMatch(/file\s+0000\s+0\s+\.wh\.usr\s+<- whiteout/);
    expect(tar).toMatch(/bin\/\.wh\.hello\s+<- whiteout/);
    expect(tar).toMatch(/var\/cache\/\.wh\.\.wh\.\.opq\s+<- opaque marker/);
    expect(tar).toMatch(/file\s+0600\s+36\s+etc\/os-release/);
    expect(tar).not.toContain('usr/share');
    expect(section(out, 4)).toContain('and still says: "welcome to the top layer\\n"');
    expect(section(out, 4)).toContain('shares 2 of its 3 layers');
  });

  it('layer-optimisation: separate RUNs waste the deleted file, one RUN does not, .dockerignore shrinks the COPY', () => {
    const out = run('layer-optimisation');
    const eff = (name: string) => Number(new RegExp(`${name}.*efficiency ([0-9.]+)%`).exec(out)?.[1]);
    expect(eff('separate RUN steps')).toBeLessThan(20);
    expect(eff('one combined RUN')).toBeGreaterThan(99);
    expect(out).toContain('biggest waste in "separate": /opt/sdk.tar');
    expect(section(out, 2)).toMatch(/with \.git and \*\.log ignored: \d+ B in 6 entries/);
  });

  it('content-addressed-store: shared layers stored once, rollback by retagging, gc keeps what is used', () => {
    const out = run('content-addressed-store');
    expect(section(out, 1)).toContain('2 base layers are the same blobs');
    const current = /roll back: tag app:1 as app:current -> ([0-9a-f]{12})/.exec(out)?.[1];
    expect(out).toMatch(new RegExp(`app:1\\s+${current}`));
    expect(section(out, 3)).toContain('gc removed 3 blobs');
    expect(section(out, 4)).toContain('all blobs hash to their names');
  });

  it('image-vs-container: each container keeps its own changes; commit adds one layer', () => {
    const out = run('image-vs-container');
    expect(section(out, 2)).toContain('web: A /srv, A /srv/www, A /srv/www/index.html');
    expect(section(out, 2)).toContain('worker: C /etc, D /etc/motd, A /etc/worker.conf');
    expect(section(out, 2)).toContain('scratchpad: D /usr');
    expect(section(out, 2)).toContain('web still sees the image\'s files: "welcome to the top layer\\nb\\n"');
    expect(section(out, 3)).toContain("hello:web = hello's 2 layers + 1 new layer");
    expect(section(out, 4)).toContain('containers left: web');
  });

  it('image-vs-container: the changes of a running container are seen live and committed (root and runc)', () => {
    const out = run('image-vs-container');
    if (runtimeUnavailable() !== undefined || !existsSync('/bin/busybox')) {
      expect(section(out, 5)).toMatch(/skipped: a running container needs what is missing here: .+/);
      return;
    }
    expect(section(out, 5)).toMatch(
      /live is running \(pid \d+ on the host\) and has changed: C \/etc, D \/etc\/group, A \/srv, A \/srv\/note/,
    );
    expect(section(out, 5)).toContain('exit code 137');
    expect(section(out, 5)).toContain('committed as busybox:live: 2 layers');
    expect(section(out, 5)).toContain('a new container of busybox:live says: "made while running\\nno /etc/group\\n"');
  });

  it('a-container-is-a-process: PID 1 inside, its own namespaces, the OOM killer, a measured quota, nothing left', () => {
    const out = run('a-container-is-a-process');
    const missing = runtimeUnavailable() ?? (existsSync('/bin/busybox') ? undefined : 'busybox-static');
    if (missing !== undefined) {
      // Where containers cannot run, one line names what is missing, and the lesson still exits 0.
      expect(out.trim().split('\n')).toHaveLength(1);
      expect(out).toMatch(/cannot here: .*(root|runc|busybox)/);
      return;
    }
    expect(section(out, 1)).toContain('inside, the command says:  my pid is 1');
    const host = Number(/the host sees it as pid (\d+): \/proc\/\d+\/status says NSpid (\d+) 1$/m.exec(out)?.[1]);
    expect(host).toBeGreaterThan(1);
    expect(section(out, 2)).toContain('uname -n inside: lesson; on the host: something else');
    for (const kind of ['pid', 'uts', 'mnt', 'net', 'ipc'])
      expect(section(out, 2)).toMatch(new RegExp(`^  ${kind} +${kind}:\\[\\d+\\] +${kind}:\\[\\d+\\]$`, 'm'));
    expect(section(out, 2)).not.toContain('(shared)');
    expect(section(out, 2)).toContain('exit code 137 (128 + 9)');
    expect(section(out, 3)).toMatch(/heap\.sh host: +sees [\d.]+ [GM]B, heap [\d.]+ [GM]B: exit 137, OOMKilled true/);
    expect(section(out, 3)).toContain('heap.sh cgroup: sees 67.1 MB, heap 16.8 MB: allocated 16.8 MB, exit 0');
    expect(section(out, 4)).toContain('the cgroup allows 50000 µs of CPU per 100000 µs period');
    const cpu = Number(/over 1 s: (\d+)% of one CPU/.exec(out)?.[1]);
    expect(cpu).toBeGreaterThan(0);
    expect(cpu).toBeLessThanOrEqual(60); // the quota holds it near 50% (never above, give or take a period)
    const [throttled, periods] = (/throttled in (\d+) of (\d+) periods/.exec(out) ?? []).slice(1).map(Number);
    // On a busy machine the loop may get less than its quota, and then it is never throttled.
    expect(throttled).toBeGreaterThanOrEqual(0);
    expect(throttled).toBeLessThanOrEqual(periods!);
    expect(periods).toBeGreaterThan(0);
    expect(section(out, 5)).toContain('mounts under the store: 0');
    expect(section(out, 5)).toMatch(/cgroups of the \d+ containers: 0/);
    expect(section(out, 5)).toContain('containers left: 0');
    expect(suggested(out)).toHaveLength(4);
  });

  it('run-mounts: a missed install reuses the cache mount; neither cache nor secret reaches the image or the key', () => {
    const out = run('run-mounts');
    expect(section(out, 1)).toContain('the install said: left-pad: downloaded');
    expect(section(out, 2)).toMatch(/RUN --mount=type=cache.*built\s+<- an earlier step produced a different result/);
    expect(section(out, 2)).toContain('the install said: left-pad: reused from the cache mount');
    expect(section(out, 3)).toContain('/var/cache/pkgs in the image: no');
    expect(section(out, 3)).toContain('/run/secrets in the image: no');
    expect(section(out, 3)).toContain('/app/install.log: authenticated with a token of 12 bytes');
    expect(section(out, 3)).toContain("the token in the image's history: no");
    expect(section(out, 4)).toContain('5 of 5 steps cached');
  });

  it('shared-build-cache: B reuses every step of A\u2019s cache with no RUN; an edit misses only what depends on it', () => {
    const out = run('shared-build-cache');
    if (!hasRegistry) {
      // Without a registry, one line names what is missing, and the lesson still exits 0.
      expect(out.trim().split('\n')).toHaveLength(1);
      expect(out).toContain('docker-registry is not installed (Debian package: docker-registry)');
      return;
    }
    expect(section(out, 1)).toMatch(
      /RUN executed 2 times; exported 5 records to 127\.0\.0\.1:\d+\/lesson\/cache, [\d.]+ kB/,
    );
    const served = section(out, 2);
    expect(served.match(/CACHED from registry 127\.0\.0\.1:\d+\/lesson\/cache/g)).toHaveLength(5);
    expect(served).toContain('RUN executed 0 times; the image is the same as A\u2019s, byte for byte');
    const edited = section(out, 3);
    expect(edited).toMatch(/RUN i=0.*CACHED from this store/);
    expect(edited).toMatch(/COPY src\/ \/src\/\s+built\s+<- a source file changed: src\/main\.txt modified/);
    expect(edited).toContain('RUN executed 1 time');
    expect(section(out, 4)).toContain('the build record says 1 came from the registry');
  });

  const lessons = readdirSync(join(ROOT, 'examples')).filter((d) => existsSync(join(ROOT, 'examples', d, 'run.mjs')));

  it.for(lessons)(
    '%s: every command the lesson prints works when copied (the installed bin, a fresh shell)',
    (name, { tmp: cwd }) => {
      const out = run(name);
      const commands = suggested(out);
      // A CLI command named anywhere else in the output would be one nobody checks (quoted history text is data).
      const named = out
        .split('\n')
        .filter((l) => /(?<!")\blayerkit (?:--store \S+ )?[a-z]+ /.test(l) && !/^ {2}\$ /.test(l));
      expect(named).toEqual([]);
      for (const command of commands) {
        expect(command, 'suggested commands are copied as plain words').not.toMatch(/['"\\|;&<>`$]/);
        const argv = command.split(/\s+/).slice(1);
        const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli.cjs'), ...argv], {
          cwd,
          encoding: 'utf8',
          env: { ...process.env, NO_COLOR: '1' },
        });
        expect(r.status, `${command}\n${r.stderr}`).toBe(0);
        expect(r.stdout.length, command).toBeGreaterThan(0);
        for (const m of command.matchAll(/--html (\S+)/g)) expect(existsSync(join(cwd, m[1]!)), command).toBe(true);
      }
    },
  );

  it('lessons print sizes in one unit system, as the CLI and docker do (kB, MB: never KiB, MiB)', () => {
    for (const name of lessons) expect(run(name), name).not.toMatch(/\d\s?(?:KiB|MiB|GiB)\b/);
  });

  it('layer-optimisation suggests its report against a store that outlives it', () => {
    expect(suggested(run('layer-optimisation'))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^layerkit --store \S+ explain opt:separate --html report\.html$/),
      ]),
    );
  });
});
