/**
 * Named build contexts (`docker buildx build --build-context NAME=VALUE`): a folder, read as the
 * main context is (its own .dockerignore applies), or `docker-image://REF`, an image that
 * stands in for NAME. Other buildx forms (git and HTTP URLs, `oci-layout://`, `target:`) need
 * what layerkit's builder does without: they are refused with the reason.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';
import { parseReference } from '../oci/reference.js';
import { type BuildContext, openContext } from './context.js';

/** One named context, opened. */
export type NamedContext = { kind: 'dir'; dir: string; context: BuildContext } | { kind: 'image'; ref: string };

/** Opens every named context; a missing folder or an unsupported form fails before the first step. */
export function openNamedContexts(contexts: Record<string, string> | undefined): Map<string, NamedContext> {
  const out = new Map<string, NamedContext>();
  for (const [name, value] of Object.entries(contexts ?? {})) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name))
      throw new LayerkitError(
        ErrorCodes.ERR_USAGE,
        `build context name ${JSON.stringify(name)} is not valid: use letters, digits, '_', '.', '-'`,
        { name },
      );
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
    if (scheme === 'docker-image') {
      const ref = value.slice('docker-image://'.length);
      parseReference(ref);
      out.set(name.toLowerCase(), { kind: 'image', ref });
    } else if (scheme !== undefined || value.startsWith('git@') || value.startsWith('target:')) {
      throw new LayerkitError(
        ErrorCodes.ERR_UNSUPPORTED,
        `build context ${name}=${value}: layerkit's builder reads named contexts from a folder or docker-image://REF (an image, from the store or pulled as FROM pulls); clone or download it into a folder first`,
        { name, value },
      );
    } else {
      out.set(name.toLowerCase(), { kind: 'dir', dir: value, context: openContext({ dir: value }) });
    }
  }
  return out;
}

/** The text BuildKit shows after `[context NAME] ` for a named context used as a stage's base. */
export function namedContextVertex(named: NamedContext): string {
  return named.kind === 'dir' ? 'load from client' : named.ref;
}
