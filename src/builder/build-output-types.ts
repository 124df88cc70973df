/** The kinds of build output and their shape (./build-output.ts writes them), light enough for a command line's parser. */
/** The output kinds, buildx's names. */
export const BuildOutputTypes = ['local', 'tar', 'oci', 'docker'] as const;

/** Where a build's result goes besides the store. */
export type BuildOutput =
  | { type: 'local'; dest: string }
  | { type: 'tar' | 'oci' | 'docker'; dest: string | NodeJS.WritableStream; name?: string | undefined };
