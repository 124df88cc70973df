/** The Dockerfile instruction keywords BuildKit knows, lowercase. */
export const INSTRUCTION_KEYWORDS = [
  'add',
  'arg',
  'cmd',
  'copy',
  'entrypoint',
  'env',
  'expose',
  'from',
  'healthcheck',
  'label',
  'maintainer',
  'onbuild',
  'run',
  'shell',
  'stopsignal',
  'user',
  'volume',
  'workdir',
] as const;

const KNOWN: ReadonlySet<string> = new Set(INSTRUCTION_KEYWORDS);

/** True when `keyword` (lowercase) is an instruction BuildKit knows. */
export function isInstructionKeyword(keyword: string): keyword is (typeof INSTRUCTION_KEYWORDS)[number] {
  return KNOWN.has(keyword);
}
