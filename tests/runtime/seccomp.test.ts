/**
 * Docker's default seccomp profile: the conditions resolved as moby's setupSeccomp does them (pure),
 * and runc applying it (root and runc): a filter by default, none with seccomp=unconfined.
 */
import { describe, expect, it } from 'vitest';
import { runContainer, type Store } from '../../src/index.js';
import { DEFAULT_CAPABILITIES } from '../../src/runtime/spec.js';
import { dockerSeccomp } from '../../src/runtime/seccomp.js';
import { collect, runtimeBlock, runtimeSkip } from '../helpers/runtime.js';

describe("Docker's default seccomp profile", () => {
  const names = (p: ReturnType<typeof dockerSeccomp>) => p.syscalls.flatMap((s) => s.names);
  it.each([
    ['amd64', ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], 'arch_prctl'],
    ['arm64', ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'], 'cacheflush'],
  ])('%s: the default capabilities allow the base list and no namespace or mount calls', (arch, arches, own) => {
    const p = dockerSeccomp({ capabilities: DEFAULT_CAPABILITIES, arch, kernel: '6.1.0' });
    expect(p).toMatchObject({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: arches });
    for (const n of ['read', 'openat', 'execve', 'chroot', own]) expect(names(p)).toContain(n);
    for (const n of ['mount', 'unshare', 'setns', 'reboot', 'init_module', 'bpf']) expect(names(p)).not.toContain(n);
    // clone only without namespace flags; clone3 answers ENOSYS so libc falls back to clone
    expect(p.syscalls.filter((s) => s.names.includes('clone'))).toEqual([
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
    ]);
    expect(p.syscalls.find((s) => s.names.includes('clone3'))).toEqual({
      names: ['clone3'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 38,
    });
  });

  it('capabilities and the kernel open their groups, as in moby', () => {
    const admin = dockerSeccomp({
      capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'],
      arch: 'amd64',
      kernel: '6.1.0',
    });
    for (const n of ['mount', 'unshare', 'setns', 'clone3']) expect(names(admin)).toContain(n);
    expect(admin.syscalls.some((s) => s.action === 'SCMP_ACT_ERRNO')).toBe(false);
    const old = dockerSeccomp({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '4.4.0-210' });
    const recent = dockerSeccomp({ capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: '4.8.0' });
    expect(names(old)).not.toContain('ptrace');
    expect(names(recent)).toContain('ptrace');
  });
});

const skip = runtimeSkip();

describe.skipIf(skip !== undefined)('seccomp in a running container', () => {
  let store: Store;
  const ids = runtimeBlock((s) => {
    store = s;
  });

  it('a filter by default (Seccomp: 2), none with seccomp=unconfined', async () => {
    const run = async (seccomp?: 'unconfined') => {
      const h = await runContainer({
        store,
        image: 'busybox:test',
        cmd: ['grep', '^Seccomp:', '/proc/self/status'],
        autoRemove: true,
        ...(seccomp ? { seccomp } : {}),
      });
      ids.push(h.id);
      return collect(h);
    };
    expect((await run()).out).toMatch(/^Seccomp:\s+2$/m);
    expect((await run('unconfined')).out).toMatch(/^Seccomp:\s+0$/m);
  }, 60_000);
});
