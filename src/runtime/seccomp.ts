/**
 * Docker's default seccomp profile, as the OCI `linux.seccomp` runc reads. The table below is
 * moby's `profiles/seccomp/default.json` (moby/moby at 0ec744f4, Apache License 2.0, as layerkit
 * is) in a compact form: an allow-list of syscall names, then the rules that depend on an
 * argument, the architecture, a capability or the kernel. {@link dockerSeccomp} resolves those
 * conditions the way moby's `setupSeccomp` does (a rule whose `includes` are not all met, or one
 * of whose `excludes` is, is left out), so the result matches what dockerd hands to runc.
 */

/** One syscall rule of the profile. */
interface Rule {
  names: string[];
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  errnoRet?: number;
  args?: Array<{ index: number; value: number; op: 'SCMP_CMP_EQ' | 'SCMP_CMP_MASKED_EQ' }>;
  includes?: { arches?: string[]; caps?: string[]; minKernel?: string };
  excludes?: { arches?: string[]; caps?: string[] };
}

const ALLOWED = `accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime
clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64
close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat
faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl
fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64
fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid
getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid
getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid
getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init
inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get
ioprio_set io_setup io_submit io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule
landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr
_llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat
mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock
munlockall munmap nanosleep newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2
poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64
pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending
rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler
sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler
sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg
sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid
setsockopt set_thread_area set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack
signalfd signalfd4 sigprocmask sigreturn socket socketcall socketpair splice stat stat64 statfs statfs64 statx symlink
symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun
timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64
timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime
utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev`;

const allow = (names: string, more: Omit<Rule, 'names' | 'action'> = {}): Rule => ({
  names: names.split(' '),
  action: 'SCMP_ACT_ALLOW',
  ...more,
});
const caps = (cap: string) => ({ includes: { caps: [`CAP_${cap}`] } });
const personality = (value: number) => allow('personality', { args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] });
/** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET. */
const CLONE_NAMESPACES = 2114060288;

/** The profile's rules, in its order. */
export const DOCKER_SECCOMP_RULES: readonly Rule[] = [
  allow(ALLOWED.replace(/\s+/g, ' ')),
  allow('process_vm_readv process_vm_writev ptrace', { includes: { minKernel: '4.8' } }),
  ...[0, 8, 131072, 131080, 4294967295].map(personality),
  allow('sync_file_range2 swapcontext', { includes: { arches: ['ppc64le'] } }),
  allow('arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls', {
    includes: { arches: ['arm', 'arm64'] },
  }),
  allow('arch_prctl', { includes: { arches: ['amd64', 'x32'] } }),
  allow('modify_ldt', { includes: { arches: ['amd64', 'x32', 'x86'] } }),
  allow('s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr', { includes: { arches: ['s390', 's390x'] } }),
  allow('riscv_flush_icache', { includes: { arches: ['riscv64'] } }),
  allow('open_by_handle_at', caps('DAC_READ_SEARCH')),
  allow(
    'bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr move_mount name_to_handle_at open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare',
    caps('SYS_ADMIN'),
  ),
  allow('clone', {
    args: [{ index: 0, value: CLONE_NAMESPACES, op: 'SCMP_CMP_MASKED_EQ' }],
    excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
  }),
  allow('clone', {
    args: [{ index: 1, value: CLONE_NAMESPACES, op: 'SCMP_CMP_MASKED_EQ' }],
    includes: { arches: ['s390', 's390x'] },
    excludes: { caps: ['CAP_SYS_ADMIN'] },
  }),
  // clone3 cannot be filtered by its flags (they are in memory): ENOSYS, so libc falls back to clone.
  { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  allow('reboot', caps('SYS_BOOT')),
  allow('chroot', caps('SYS_CHROOT')),
  allow('delete_module init_module finit_module', caps('SYS_MODULE')),
  allow('acct', caps('SYS_PACCT')),
  allow('kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace', caps('SYS_PTRACE')),
  allow('iopl ioperm', caps('SYS_RAWIO')),
  allow('settimeofday stime clock_settime', caps('SYS_TIME')),
  allow('vhangup', caps('SYS_TTY_CONFIG')),
  allow('get_mempolicy mbind set_mempolicy', caps('SYS_NICE')),
  allow('syslog', caps('SYSLOG')),
];

/** The seccomp architectures for a Go architecture name (moby's archMap, native first). */
const ARCHES: Record<string, string[]> = {
  amd64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  s390x: ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'],
  riscv64: ['SCMP_ARCH_RISCV64'],
  ppc64le: ['SCMP_ARCH_PPC64LE'],
};

/** The `linux.seccomp` of a runtime spec. */
export interface SeccompSpec {
  defaultAction: string;
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: Array<Omit<Rule, 'includes' | 'excludes'>>;
}

/** Options of {@link dockerSeccomp}. */
export interface DockerSeccompOptions {
  /** The container's capabilities (`CAP_...`, the bounding set). */
  capabilities: readonly string[];
  /** Go's name for the architecture (`amd64`, `arm64`...). */
  arch: string;
  /** The kernel release (`uname -r`), for `minKernel`. */
  kernel: string;
}

function atLeast(kernel: string, min: string): boolean {
  const k = kernel.split(/[.-]/).map(Number);
  const m = min.split('.').map(Number);
  for (let i = 0; i < m.length; i++) {
    if ((k[i] ?? 0) !== m[i]) return (k[i] ?? 0) > m[i]!;
  }
  return true;
}

/** Docker's default profile for a container with these capabilities on this machine (pure). */
export function dockerSeccomp({ capabilities, arch, kernel }: DockerSeccompOptions): SeccompSpec {
  const has = (c: string) => capabilities.includes(c);
  const syscalls: SeccompSpec['syscalls'] = [];
  for (const rule of DOCKER_SECCOMP_RULES) {
    const inc = rule.includes;
    const exc = rule.excludes;
    if (inc?.arches && !inc.arches.includes(arch)) continue;
    if (inc?.caps && !inc.caps.every(has)) continue;
    if (inc?.minKernel && !atLeast(kernel, inc.minKernel)) continue;
    if (exc?.arches?.includes(arch)) continue;
    if (exc?.caps?.some(has)) continue;
    const { includes: _i, excludes: _e, ...kept } = rule;
    syscalls.push(kept);
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ARCHES[arch] ?? [],
    syscalls,
  };
}

/** Go's name for this process's architecture. */
export function goArch(arch: string = process.arch): string {
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? 'x86' : arch;
}
