/**
 * The built-in utilities of the virtual shell, one file each, and {@link SUPPORTED_UTILITIES}:
 * the documented set (name, usage, what it does) as data for the README.
 */
import type { UtilityDefinition } from '../utility.js';
import { basename } from './basename.js';
import { bracket } from './bracket.js';
import { cat } from './cat.js';
import { chmod } from './chmod.js';
import { chgrp } from './chgrp.js';
import { chown } from './chown.js';
import { cp } from './cp.js';
import { cut } from './cut.js';
import { date } from './date.js';
import { dirname } from './dirname.js';
import { echo } from './echo.js';
import { env } from './env.js';
import { falseUtility } from './false.js';
import { find } from './find.js';
import { grep } from './grep.js';
import { head } from './head.js';
import { hostname } from './hostname.js';
import { id } from './id.js';
import { ln } from './ln.js';
import { ls } from './ls.js';
import { md5sum } from './md5sum.js';
import { mkdir } from './mkdir.js';
import { mktemp } from './mktemp.js';
import { mv } from './mv.js';
import { paste } from './paste.js';
import { printenv } from './printenv.js';
import { printf } from './printf.js';
import { pwd } from './pwd.js';
import { readlink } from './readlink.js';
import { realpath } from './realpath.js';
import { rm } from './rm.js';
import { rmdir } from './rmdir.js';
import { sed } from './sed.js';
import { seq } from './seq.js';
import { sha1sum } from './sha1sum.js';
import { sha256sum } from './sha256sum.js';
import { sha512sum } from './sha512sum.js';
import { sleep } from './sleep.js';
import { sort } from './sort.js';
import { stat } from './stat.js';
import { tail } from './tail.js';
import { tee } from './tee.js';
import { test } from './test.js';
import { touch } from './touch.js';
import { tr } from './tr.js';
import { trueUtility } from './true.js';
import { uname } from './uname.js';
import { uniq } from './uniq.js';
import { wc } from './wc.js';
import { which } from './which.js';
import { whoami } from './whoami.js';
import { xargs } from './xargs.js';
import { yes } from './yes.js';

const egrep: UtilityDefinition = {
  ...grep,
  name: 'egrep',
  synopsis: 'egrep [GREP OPTION]... PATTERN [FILE|-]...',
  description: 'grep -E (extended patterns).',
};
const fgrep: UtilityDefinition = {
  ...grep,
  name: 'fgrep',
  synopsis: 'fgrep [GREP OPTION]... STRING [FILE|-]...',
  description: 'grep -F (fixed strings).',
};

/** Every built-in utility, sorted by name. */
export const BUILTIN_UTILITIES: readonly UtilityDefinition[] = [
  bracket,
  basename,
  cat,
  chgrp,
  chmod,
  chown,
  cp,
  cut,
  date,
  dirname,
  echo,
  egrep,
  env,
  falseUtility,
  fgrep,
  find,
  grep,
  head,
  hostname,
  id,
  ln,
  ls,
  md5sum,
  mkdir,
  mktemp,
  mv,
  paste,
  printenv,
  printf,
  pwd,
  readlink,
  realpath,
  rm,
  rmdir,
  sed,
  seq,
  sha1sum,
  sha256sum,
  sha512sum,
  sleep,
  sort,
  stat,
  tail,
  tee,
  test,
  touch,
  tr,
  trueUtility,
  uname,
  uniq,
  wc,
  which,
  whoami,
  xargs,
  yes,
];

/** Renders {@link SUPPORTED_UTILITIES} as the Markdown table of the shell's README. */
export function utilitiesTable(): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const rows = SUPPORTED_UTILITIES.map((u) => `| \`${u.name}\` | \`${esc(u.synopsis)}\` | ${esc(u.description)} |`);
  return ['| Command | Usage | What it does |', '| --- | --- | --- |', ...rows].join('\n');
}

/** One documented command of the virtual shell. */
export interface SupportedUtility {
  name: string;
  synopsis: string;
  description: string;
}

/** The shell itself, runnable by these names (`sh -c`, `bash script.sh`, `#!/bin/sh` scripts). */
const SHELL_ENTRY: SupportedUtility = {
  name: 'sh',
  synopsis: 'sh|bash|ash|dash [-euxfaCv] [-o pipefail] [-c SCRIPT [ARG0 [ARG]...] | FILE [ARG]... | -s [ARG]...]',
  description:
    'The virtual shell itself (a new shell with the exported environment); bash, ash and dash are the same interpreter.',
};

/**
 * The commands the virtual shell runs, as data for the README: every built-in utility plus the
 * shell itself. Shell builtins (`cd`, `export`, `read`...) are listed in {@link SHELL_BUILTINS}.
 */
export const SUPPORTED_UTILITIES: readonly SupportedUtility[] = [
  ...BUILTIN_UTILITIES.map(({ name, synopsis, description }) => ({ name, synopsis, description })),
  SHELL_ENTRY,
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** The shell builtins (they act on the shell itself), as data for the README. */
export const SHELL_BUILTINS: readonly string[] = [
  ':',
  '.',
  'break',
  'cd',
  'command',
  'continue',
  'eval',
  'exec',
  'exit',
  'export',
  'getopts',
  'hash',
  'local',
  'read',
  'readonly',
  'return',
  'set',
  'shift',
  'source',
  'times',
  'trap',
  'type',
  'umask',
  'unset',
  'wait',
];
