/** Finds real peer tools (umoci, skopeo, GNU tar...) and says which Debian package provides a missing one. */
import { execFileSync } from 'node:child_process';

const PACKAGES: Record<string, string> = {
  umoci: 'umoci',
  skopeo: 'skopeo',
  'oci-image-tool': 'oci-image-tool',
  buildah: 'buildah',
  podman: 'podman',
  runc: 'runc',
  docker: 'docker.io',
  busybox: 'busybox-static',
  tar: 'tar',
  setfattr: 'attr',
  getfattr: 'attr',
  script: 'bsdutils',
};

/** True when `tool` is on PATH. */
export function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The skip message for a missing tool, naming its Debian package. */
export function missingToolMessage(tool: string): string {
  return `${tool} is not installed (Debian package: ${PACKAGES[tool] ?? tool}); .ci/run installs it`;
}

/** True when this process may mount overlayfs (root on Linux with the overlay module). */
export function canMountOverlay(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('sh', ['-c', 'grep -qw overlay /proc/filesystems || modprobe overlay'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
