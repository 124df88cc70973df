/**
 * The hint line under every CLI error. Hints belong to the CLI (library messages say what went
 * wrong, never which command to type): each error code has its own, made specific by the
 * error's data and the command line that failed (`exec nobox` points at `containers`, `ls hello
 * /nope` at the folder above `/nope`, a usage error at the command's own `--help`).
 */
import type { ErrorCode, LayerkitError } from '../errors.js';

/** What the virtual shell's "not found" messages advise a CLI user (the library's own names `linuxExecutor`). */
export const SHELL_NOT_FOUND_ADVICE =
  "the virtual shell runs built-in utilities only; add '--executor linux' to run the image's own binaries (Linux, root)";

/** The command line an error came from, when the CLI got as far as parsing it. */
export interface HintContext {
  /** The command's name (`ls`, `build`...). */
  command?: string;
  /** Its positional arguments. */
  args?: string[];
}

type Hint = (data: Record<string, unknown>, ctx: HintContext, err: LayerkitError) => string;

const DAMAGED_IMAGE: Hint = () =>
  "the archive or image is damaged or is not a container image; export it again from where it came from (check it with 'skopeo inspect' or 'umoci unpack')";
const HOSTILE_ARCHIVE: Hint = () =>
  'the archive is broken or malicious and was refused; nothing was written outside the store';
const DOCKERFILE: Hint = (data) =>
  `fix the Dockerfile${typeof data.line === 'number' ? ` at line ${data.line}` : ''}; the instructions and their forms are in the Dockerfile reference (docs.docker.com/reference/dockerfile)`;
const REVERIFY: Hint = () => "run 'layerkit verify', then import the damaged image again";

/** `--help` of the command that failed, or the top-level help when there was none. */
export function helpHint(ctx: HintContext): string {
  return ctx.command ? `run 'layerkit ${ctx.command} --help' for its arguments and options` : "run 'layerkit --help'";
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The folder above an image path (`/etc` for `/etc/nope`, `/` for `/nope`). */
function parentOf(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  return i <= 0 ? '/' : trimmed.slice(0, i);
}

/** Commands whose first argument names a container. */
const CONTAINER_COMMANDS = new Set(['exec', 'diff', 'commit', 'rm']);

/** One hint per code: the compiler checks that none is missing. */
const HINTS: Record<ErrorCode, Hint> = {
  EINTEGRITY: REVERIFY,
  EBADSIZE: REVERIFY,
  ERR_NOT_FOUND: (data, ctx) => {
    const path = str(data.path);
    const target = ctx.args?.[0];
    if (path !== undefined && ctx.command && ['ls', 'cat'].includes(ctx.command) && target)
      return `'layerkit ls ${target} ${parentOf(path)}' lists what is there`;
    if (path !== undefined && (ctx.command === 'import' || ctx.command === 'build'))
      return 'check the path (relative paths start from the current folder)';
    if (str(data.name) !== undefined || (ctx.command !== undefined && CONTAINER_COMMANDS.has(ctx.command)))
      return "'layerkit containers' lists the containers";
    if (str(data.ref) !== undefined) return "'layerkit images' lists the images in the store";
    if (str(data.digest) !== undefined) return "a blob is missing: run 'layerkit verify' to see what else is";
    return "'layerkit images' lists the images in the store";
  },
  ERR_AMBIGUOUS_REF: () => 'give more characters of the digest, or use a name',
  ERR_INVALID_DIGEST: () => 'a digest looks like sha256: followed by 64 hex digits (or a unique prefix of them)',
  ERR_INVALID_REFERENCE: () =>
    'a name is lowercase name[:tag][@sha256:digest], e.g. app:1 or ghcr.io/org/app:2 (tags may use A-Z a-z 0-9 _ . -)',
  ERR_INVALID_MANIFEST: DAMAGED_IMAGE,
  ERR_UNSUPPORTED_MEDIA_TYPE: () => "only container images can be used; 'skopeo inspect --raw' shows the media types",
  ERR_UNSUPPORTED_COMPRESSION: () => "convert the image with 'skopeo copy --dest-compress-format gzip'",
  ERR_LAYER_FORMAT: DAMAGED_IMAGE,
  ERR_UNSAFE_PATH: (data, ctx) =>
    ctx.command === 'build'
      ? 'paths in a Dockerfile stay inside the image and the build context'
      : HOSTILE_ARCHIVE(data, ctx, undefined as never),
  ERR_LIMIT_EXCEEDED: HOSTILE_ARCHIVE,
  ERR_ARCHIVE_FORMAT: DAMAGED_IMAGE,
  ERR_NO_MATCHING_PLATFORM: () => 'pass --platform OS/ARCH with one of the platforms the message lists',
  ERR_LOCKED: () => 'another layerkit process is using the store; wait for it to finish',
  ERR_STORE_CORRUPT: () => 'check --store / $LAYERKIT_STORE points at a layerkit store (an OCI layout)',
  ERR_CONTAINER: (data) =>
    `choose another --name${str(data.name) ? `, or remove the old one first ('layerkit rm ${str(data.name)}')` : ''}`,
  ERR_DOCKERFILE_SYNTAX: DOCKERFILE,
  ERR_DOCKERFILE_UNKNOWN_INSTRUCTION: DOCKERFILE,
  ERR_DOCKERFILE_ARGUMENTS: DOCKERFILE,
  ERR_DOCKERFILE_FLAG: DOCKERFILE,
  ERR_DOCKERFILE_EXPANSION: (data) =>
    `a variable the Dockerfile needs is unset or malformed${typeof data.line === 'number' ? ` (line ${data.line})` : ''}; pass it with --build-arg NAME=VALUE`,
  ERR_IGNORE_PATTERN: () => 'fix the pattern in .dockerignore (a [ class must close; ! needs a pattern after it)',
  ERR_BUILD_STEP: (data) =>
    `the step${typeof data.line === 'number' ? ` at line ${data.line}` : ''} failed; the message says why, 'layerkit build --progress plain' shows each step's output`,
  ERR_BUILD_EXIT_CODE: (data) =>
    data.exitCode === 127 && data.executor === 'virtual-shell'
      ? "the command was not found: the virtual shell runs built-in utilities only; add '--executor linux' to run the image's own binaries (Linux, root)"
      : data.exitCode === 127
        ? 'the command was not found in the image: install it in an earlier RUN, or check PATH'
        : "the RUN command failed: its output is above; 'layerkit build --progress plain --show-logs' prints all of it",
  ERR_BUILD_BASE_NOT_FOUND: (data) => {
    const name = str(data.image) ?? str(data.ref) ?? 'NAME';
    if (data.pull === 'never')
      return `build with '--pull missing' to pull ${name}, or 'layerkit import IMAGE.tar --tag ${name}'`;
    if (data.registryCode !== undefined)
      return `'layerkit pull ${name}' shows the registry's answer; 'layerkit login HOST' if it needs credentials`;
    return `put the base image in the store first, e.g. 'layerkit pull ${name}' or 'layerkit import IMAGE.tar --tag ${name}'`;
  },
  ERR_BUILD_STAGE: (data) =>
    Array.isArray(data.stages) && data.target !== undefined
      ? `--target takes a stage name: ${data.stages.length > 0 ? data.stages.join(', ') : 'this Dockerfile names none (FROM IMAGE AS NAME)'}`
      : "stages are named by 'FROM IMAGE AS NAME'; --target and COPY --from take those names",
  ERR_BUILD_CONTEXT: (data) =>
    data.dockerfile !== undefined
      ? '-f FILE is relative to the current folder; without -f the Dockerfile is CONTEXT/Dockerfile'
      : 'sources are relative to the build context (the folder given last) and must not be excluded by .dockerignore',
  ERR_UNSUPPORTED: (_data, ctx) =>
    ctx.command === 'build' || ctx.command === 'exec'
      ? "the default executor is the virtual shell; '--executor linux' needs Linux, root and the tools the message names"
      : 'this machine lacks what the message names',
  ERR_ABORTED: () => 'the operation was interrupted and the store left as it was; run it again',
  ERR_USAGE: (_data, ctx) => helpHint(ctx),
  ERR_CONTAINER_STATE: () =>
    "'layerkit ps -a' shows each container's state; stop it first ('layerkit stop NAME') or start it",
  ERR_CONTAINER_USER: () =>
    "the user or group must exist in the image's /etc/passwd or /etc/group, or be numeric (1000:1000)",
  ERR_CONTAINER_COMMAND: (data) =>
    data.exitCode === 126
      ? 'the file is not executable in the image; check its mode with layerkit ls IMAGE DIR'
      : "the command is not in the image; 'layerkit ls IMAGE /bin' lists what is there",
  ERR_RUNTIME: () => 'running containers needs Linux, root and runc (Debian: apt-get install runc)',
  ERR_REGISTRY: (data) =>
    data.status === 404 || data.status === '404'
      ? 'check the repository and tag; the registry has no such manifest'
      : 'check the registry address and your network; run again later if the registry is overloaded',
  ERR_REGISTRY_AUTH: (data) =>
    `credentials come from 'layerkit login ${typeof data.registry === 'string' ? data.registry : 'REGISTRY'}' or docker login (config.json, credential helpers), podman login (REGISTRY_AUTH_FILE, auth.json)`,
  ERR_REGISTRY_TLS: (data) =>
    data.clientCertificate
      ? 'a registry that wants a client certificate reads it from certs.d/HOST:PORT/client.cert and client.key (--cert-dir DIR names the certs.d folder)'
      : 'for a plain-HTTP or self-signed registry on your machine, pass --insecure',
  ERR_REGISTRY_PROXY: (data) =>
    data.status === 407
      ? 'the proxy wants credentials: put them in the proxy URL (http://USER:PASSWORD@HOST:PORT)'
      : 'check HTTPS_PROXY, HTTP_PROXY and NO_PROXY (a registry listed in NO_PROXY is reached directly)',
  ERR_UNION_LOWER_MISMATCH: () =>
    "the container's image changed under it; commit or remove the container ('layerkit rm NAME') and create it again",
};

/** Hints for fs-shaped errors (`ENOENT`...), by code; the rest get {@link FS_DEFAULT}. */
const FS_HINTS: Record<string, (ctx: HintContext) => string> = {
  ENOENT: (ctx) =>
    ctx.command === 'exec' ? 'the file is not in the container' : 'check the path (relative to the current folder)',
  EISDIR: (ctx) =>
    ctx.args?.[0] && ctx.command === 'cat'
      ? `it is a folder: 'layerkit ls ${ctx.args[0]} ${ctx.args[1] ?? '/'}' lists it`
      : 'the path is a folder; give a file',
  ENOTDIR: () => 'a part of the path is a file, not a folder',
  EEXIST: () => 'the path exists already; choose a new one or remove it first',
  ENOTEMPTY: (ctx) =>
    ctx.command === 'unpack'
      ? 'unpack into a new or empty folder'
      : 'the folder is not empty; remove its contents first',
  EACCES: () => 'check the permissions (the store and output folders must be writable by you)',
  EPERM: () => 'the operation needs more privileges (root, or a user namespace)',
  ENOSPC: () => 'the disk is full; free space, or run layerkit gc',
  EROFS: () => 'the file system is read-only',
};
const FS_DEFAULT = 'check the path and its permissions';

/** The hint for an error (never empty). */
export function hintFor(err: unknown, ctx: HintContext = {}): string {
  const e = err as { code?: unknown; data?: unknown; cause?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code && code in HINTS && typeof e?.data === 'object') {
    // A step error wrapping another layerkit error gets the inner error's hint.
    const cause = e.cause as { code?: unknown; data?: unknown } | undefined;
    if (code === 'ERR_BUILD_STEP' && typeof cause?.code === 'string' && cause.code in HINTS && cause.data)
      return hintFor(cause, ctx);
    return HINTS[code as ErrorCode]((e.data ?? {}) as Record<string, unknown>, ctx, err as LayerkitError);
  }
  if (code && /^E[A-Z]+$/.test(code)) return (FS_HINTS[code] ?? (() => FS_DEFAULT))(ctx);
  return 'this is a bug in layerkit; run again with --debug and report the stack';
}

/** Every layerkit error code with a hint (for the tests). */
export const HINTED_CODES = Object.keys(HINTS) as ErrorCode[];
