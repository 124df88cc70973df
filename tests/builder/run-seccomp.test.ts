/**
 * RUN under Docker's default seccomp profile (issue 12), as BuildKit gives every RUN (buildah's
 * `oci` isolation applies a filter too: containers-common's profile). The probe is
 * `unshare(CLONE_NEWUSER)` (`busybox unshare -U`): a user namespace needs no capability, so
 * Docker's default capabilities allow it and only the filter refuses it (Docker's profile allows
 * unshare with CAP_SYS_ADMIN alone). With the `oci` isolation it fails with EPERM;
 * `RUN --security=insecure` runs unfiltered, as BuildKit's insecure mode (`--privileged`); each
 * RUN's step record names the filter. The `chroot` isolation has no filter, and its record says so.
 *
 * Against `buildah build --isolation oci` from the same base: both RUNs run filtered (Seccomp: 2),
 * but containers-common's profile allows unshare (for nested user namespaces) where Docker's, and
 * so BuildKit's, refuses it. layerkit follows BuildKit; the test pins that difference.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, onTestFinished } from 'vitest';
import { build } from '../../src/builder/build.js';
import { linuxExecutor, linuxExecutorUnavailable } from '../../src/builder/executors/linux.js';
import { importImage } from '../../src/image/import.js';
import { isLayerkitError } from '../../src/errors.js';
import { flattenImage, readFlatFile } from '../../src/index.js';
import { BuildahStore, makeBusyboxLayout } from '../helpers/buildah.js';
import { hasBusybox, makeBusyboxImage } from '../helpers/busybox.js';
import { it } from '../helpers/fixtures.js';
import { missingPeer } from '../helpers/peers.js';

const busybox = hasBusybox() ? undefined : 'busybox is not installed (Debian package busybox-static)';
const ociSkip = busybox ?? linuxExecutorUnavailable('oci');
const chrootSkip = busybox ?? linuxExecutorUnavailable('chroot');
const buildahSkip = ociSkip ?? missingPeer('buildah', 'skopeo', 'umoci');
const why = (skip: string | undefined) => (skip ? ` (skipped: ${skip})` : '');

/** Records what the probe did: its exit status, its error, and the process's seccomp mode. */
const probe = (suffix: string) =>
  `busybox unshare -U true 2>/err${suffix}; echo $? > /rc${suffix}; busybox grep ^Seccomp: /proc/self/status > /status${suffix}`;

describe('RUN and seccomp', () => {
  it.skipIf(ociSkip !== undefined)(
    `oci: Docker's default profile refuses unshare; --security=insecure has none; the records say so${why(ociSkip)}`,
    async ({ store, tmp }) => {
      await makeBusyboxImage(store);
      const result = await build({
        store,
        context: tmp,
        dockerfileText: `FROM busybox:test\nRUN ${probe('')}\nRUN --security=insecure ${probe('-insecure')}\n`,
        executor: linuxExecutor({ isolation: 'oci' }),
        allow: ['security.insecure'],
      });
      const flat = await flattenImage({ store, image: result.image });
      const read = (p: string) => readFlatFile(flat, p).toString();
      expect(read('/status')).toMatch(/^Seccomp:\s+2\n$/);
      expect(read('/rc')).toBe('1\n');
      expect(read('/err')).toMatch(/Operation not permitted/);
      expect(read('/status-insecure')).toMatch(/^Seccomp:\s+0\n$/);
      expect([read('/rc-insecure'), read('/err-insecure')]).toEqual(['0\n', '']);
      const runs = result.steps.filter((s) => s.instruction.startsWith('RUN'));
      expect(runs.map((s) => [s.executor, s.seccomp])).toEqual([
        ['linux', 'docker-default'],
        ['linux', 'unconfined'],
      ]);
    },
  );

  it.skipIf(ociSkip !== undefined)(
    `oci: a RUN the profile makes fail fails the build, and the error names the filter${why(ociSkip)}`,
    async ({ store, tmp }) => {
      await makeBusyboxImage(store);
      const err = await build({
        store,
        context: tmp,
        dockerfileText: 'FROM busybox:test\nRUN busybox unshare -U true\n',
        executor: linuxExecutor({ isolation: 'oci' }),
      }).catch((e: unknown) => e);
      expect(isLayerkitError(err) && err.code).toBe('ERR_BUILD_EXIT_CODE');
      expect((err as { data: Record<string, unknown> }).data).toMatchObject({ exitCode: 1, seccomp: 'docker-default' });
    },
  );

  it.skipIf(chrootSkip !== undefined)(
    `chroot: no seccomp filter, and the record says none${why(chrootSkip)}`,
    async ({ store, tmp }) => {
      await makeBusyboxImage(store);
      const result = await build({
        store,
        context: tmp,
        dockerfileText:
          'FROM busybox:test\nRUN mkdir -p /proc /dev\nRUN busybox grep ^Seccomp: /proc/self/status > /status\n',
        executor: linuxExecutor({ isolation: 'chroot' }),
      });
      const flat = await flattenImage({ store, image: result.image });
      expect(readFlatFile(flat, '/status').toString()).toMatch(/^Seccomp:\s+0\n$/);
      const runs = result.steps.filter((s) => s.instruction.startsWith('RUN'));
      expect(runs.map((s) => s.seccomp)).toEqual(['none', 'none']);
    },
  );

  it.skipIf(buildahSkip !== undefined)(
    `buildah build --isolation oci filters RUN too, with a profile that allows unshare${why(buildahSkip)}`,
    async ({ diskStore: store, tmp }) => {
      const base = makeBusyboxLayout(tmp);
      const buildah = new BuildahStore(tmp);
      onTestFinished(() => buildah.close());
      buildah.importLayout(base, 'localhost/busybox:test');
      await importImage({ store, source: base.layout, tags: ['localhost/busybox:test'] });
      const dockerfile = `FROM localhost/busybox:test\nRUN ${probe('')}\n`;
      const context = join(tmp, 'ctx');
      mkdirSync(context);
      writeFileSync(join(context, 'Dockerfile'), dockerfile);
      buildah.build({ context, dockerfile: join(context, 'Dockerfile'), tag: 'probe:1', isolation: 'oci' });
      const theirs = { layout: join(tmp, 'buildah-out'), tag: 'probe' };
      buildah.push('probe:1', theirs);
      await importImage({ store, source: theirs.layout, tags: ['buildah/probe:1'] });
      await build({ store, context, executor: linuxExecutor({ isolation: 'oci' }), tags: ['ours:1'] });
      const files = async (image: string) => {
        const flat = await flattenImage({ store, image });
        return ['/rc', '/err', '/status'].map((p) => readFlatFile(flat, p).toString());
      };
      const [rc, err, status] = await files('buildah/probe:1');
      const [ourRc, ourErr, ourStatus] = await files('ours:1');
      // Both filtered...
      expect([status, ourStatus]).toEqual([expect.stringMatching(/^Seccomp:\s+2\n$/), status]);
      // ...by different profiles: containers-common's allows unshare, Docker's (BuildKit's) does not.
      expect([rc, err]).toEqual(['0\n', '']);
      expect(ourRc).toBe('1\n');
      expect(ourErr).toMatch(/Operation not permitted/);
    },
    180_000,
  );
});
