/** `find`: walks directory trees. */
import { posix } from 'node:path';
import type { UtilityContext, UtilityDefinition } from '../utility.js';
import { patternToRegExp } from '../pattern.js';
import { fileType, walk, type WalkEntry } from './tree.js';
import { fsErrorText } from './common.js';
import { readGroups, readPasswd } from '../users.js';

type Node =
  | { k: 'and' | 'or'; a: Node; b: Node }
  | { k: 'not'; a: Node }
  | { k: 'true' }
  | { k: 'name'; re: RegExp; path: boolean }
  | { k: 'type'; types: string }
  | { k: 'empty' }
  | { k: 'size'; cmp: -1 | 0 | 1; n: number; unit: number }
  | { k: 'perm'; mode: number; kind: 'exact' | 'all' | 'any' }
  | { k: 'user' | 'group'; id: number }
  | { k: 'newer'; ms: number }
  | { k: 'print'; sep: string }
  | { k: 'delete' }
  | { k: 'prune' }
  | { k: 'quit' }
  | { k: 'exec'; argv: string[]; plus: boolean };

class FindError extends Error {}

interface Parsed {
  expr: Node;
  hasAction: boolean;
  maxDepth: number | undefined;
  minDepth: number;
  depthFirst: boolean;
  execs: Extract<Node, { k: 'exec' }>[];
}

const TYPE_CHARS: Readonly<Record<string, string>> = {
  file: 'f',
  directory: 'd',
  symlink: 'l',
  fifo: 'p',
  char: 'c',
  block: 'b',
  socket: 's',
};

async function parseExpression(ctx: UtilityContext, args: string[]): Promise<Parsed> {
  let i = 0;
  const p: Parsed = {
    expr: { k: 'true' },
    hasAction: false,
    maxDepth: undefined,
    minDepth: 0,
    depthFirst: false,
    execs: [],
  };
  const need = (opt: string): string => {
    const v = args[i++];
    if (v === undefined) throw new FindError(`missing argument to '${opt}'`);
    return v;
  };
  const primary = async (): Promise<Node> => {
    const a = args[i++] as string;
    switch (a) {
      case '(': {
        const e = await or();
        if (args[i++] !== ')') throw new FindError("missing ')'");
        return e;
      }
      case '!':
      case '-not':
        return { k: 'not', a: await primary() };
      case '-name':
      case '-iname': {
        const pat = need(a);
        return { k: 'name', re: new RegExp(patternToRegExp(pat).source, a === '-iname' ? 'iu' : 'u'), path: false };
      }
      case '-path':
      case '-wholename':
      case '-ipath':
        return { k: 'name', re: new RegExp(patternToRegExp(need(a)).source, a === '-ipath' ? 'iu' : 'u'), path: true };
      case '-type': {
        const t = need(a).replace(/,/g, '');
        if (!/^[fdlpcbs]+$/.test(t)) throw new FindError(`unknown argument to -type: ${t}`);
        return { k: 'type', types: t };
      }
      case '-maxdepth':
      case '-mindepth': {
        const v = need(a);
        if (!/^[0-9]+$/.test(v)) throw new FindError(`invalid argument '${v}' to '${a}'`);
        if (a === '-maxdepth') p.maxDepth = Number(v);
        else p.minDepth = Number(v);
        return { k: 'true' };
      }
      case '-depth':
        p.depthFirst = true;
        return { k: 'true' };
      case '-xdev':
      case '-mount':
      case '-noleaf':
      case '-follow':
        return { k: 'true' };
      case '-empty':
        return { k: 'empty' };
      case '-true':
        return { k: 'true' };
      case '-false':
        return { k: 'not', a: { k: 'true' } };
      case '-size': {
        const m = /^([+-]?)([0-9]+)([cwbkMG]?)$/.exec(need(a));
        if (!m) throw new FindError('invalid -size');
        const unit = { c: 1, w: 2, b: 512, k: 1024, M: 1048576, G: 1073741824, '': 512 }[m[3] as string] as number;
        return { k: 'size', cmp: m[1] === '+' ? 1 : m[1] === '-' ? -1 : 0, n: Number(m[2]), unit };
      }
      case '-perm': {
        const m = /^([-/]?)([0-7]+)$/.exec(need(a));
        if (!m) throw new FindError('invalid mode for -perm (octal only)');
        return {
          k: 'perm',
          mode: parseInt(m[2] as string, 8),
          kind: m[1] === '-' ? 'all' : m[1] === '/' ? 'any' : 'exact',
        };
      }
      case '-user':
      case '-uid':
      case '-group':
      case '-gid': {
        const v = need(a);
        let id = Number(v);
        if (!/^[0-9]+$/.test(v)) {
          const found =
            a === '-user'
              ? (await readPasswd(ctx.fs)).find((u) => u.name === v)?.uid
              : (await readGroups(ctx.fs)).find((g) => g.name === v)?.gid;
          if (found === undefined)
            throw new FindError(`'${v}' is not the name of a known ${a === '-user' ? 'user' : 'group'}`);
          id = found;
        }
        return { k: a === '-user' || a === '-uid' ? 'user' : 'group', id };
      }
      case '-newer': {
        const ref = need(a);
        try {
          return { k: 'newer', ms: (await ctx.fs.stat(ctx.resolve(ref))).mtimeMs };
        } catch (err) {
          throw new FindError(`'${ref}': ${fsErrorText(err)}`);
        }
      }
      case '-print':
      case '-print0':
        p.hasAction = true;
        return { k: 'print', sep: a === '-print0' ? '\0' : '\n' };
      case '-delete':
        p.hasAction = true;
        p.depthFirst = true;
        return { k: 'delete' };
      case '-prune':
        return { k: 'prune' };
      case '-quit':
        return { k: 'quit' };
      case '-exec':
      case '-execdir': {
        const argv: string[] = [];
        for (;;) {
          const w = args[i++];
          if (w === undefined) throw new FindError(`missing argument to '${a}'`);
          if (w === ';') break;
          if (w === '+' && argv[argv.length - 1] === '{}') {
            argv.pop();
            const node = { k: 'exec' as const, argv, plus: true };
            p.execs.push(node);
            p.hasAction = true;
            return node;
          }
          argv.push(w);
        }
        if (argv.length === 0) throw new FindError(`missing argument to '${a}'`);
        p.hasAction = true;
        return { k: 'exec', argv, plus: false };
      }
      default:
        throw new FindError(`unknown predicate '${a}'`);
    }
  };
  const and = async (): Promise<Node> => {
    let n = await primary();
    for (;;) {
      const a = args[i];
      if (a === undefined || a === ')' || a === '-o' || a === '-or' || a === ',') return n;
      if (a === '-a' || a === '-and') i++;
      n = { k: 'and', a: n, b: await primary() };
    }
  };
  const or = async (): Promise<Node> => {
    let n = await and();
    while (args[i] === '-o' || args[i] === '-or') {
      i++;
      n = { k: 'or', a: n, b: await and() };
    }
    return n;
  };
  if (args.length > 0) p.expr = await or();
  if (i < args.length) throw new FindError(`unexpected '${args[i] ?? ''}'`);
  return p;
}

/**
 * `find [PATH]... [EXPRESSION]`: walks each PATH (default `.`) in sorted order, never following
 * symlinks. Tests: `-name -iname -path -type [fdlpcbs] -empty -size -perm -user -group -newer
 * -maxdepth -mindepth -depth -true -false`; operators `! -not -a -o ( )`; actions `-print
 * -print0 -delete -prune -quit -exec CMD {} ;` and `-exec CMD {} +` (utilities and scripts).
 */
export const find: UtilityDefinition = {
  name: 'find',
  synopsis:
    'find [PATH]... [-name PAT] [-type f|d|l] [-maxdepth N] [-mindepth N] [-exec CMD {} ;|+] [-delete] [-print]',
  description:
    'Walk trees in sorted order with tests (-name, -type, -size, -perm...) and actions (-print, -exec, -delete).',
  run: async (ctx) => {
    const args = [...ctx.args];
    const paths: string[] = [];
    while (args.length > 0 && !/^[-!(]/.test(args[0] as string)) paths.push(args.shift() as string);
    if (paths.length === 0) paths.push('.');
    let parsed: Parsed;
    try {
      parsed = await parseExpression(ctx, args);
    } catch (err) {
      if (!(err instanceof FindError)) throw err;
      await ctx.error(err.message);
      return 1;
    }
    let status = 0;
    let quit = false;
    const pending = new Map<Extract<Node, { k: 'exec' }>, string[]>();
    const evaluate = async (n: Node, e: WalkEntry, shown: string, prune: { value: boolean }): Promise<boolean> => {
      switch (n.k) {
        case 'and':
          return (await evaluate(n.a, e, shown, prune)) && evaluate(n.b, e, shown, prune);
        case 'or':
          return (await evaluate(n.a, e, shown, prune)) || evaluate(n.b, e, shown, prune);
        case 'not':
          return !(await evaluate(n.a, e, shown, prune));
        case 'true':
          return true;
        case 'name':
          return n.re.test(n.path ? shown : posix.basename(shown) || shown);
        case 'type':
          return n.types.includes(TYPE_CHARS[fileType(e.stats)] ?? '?');
        case 'empty':
          if (e.stats.isDirectory()) return (await ctx.fs.readdir(e.path)).length === 0;
          return e.stats.isFile() && e.stats.size === 0;
        case 'size': {
          const units = Math.ceil(e.stats.size / n.unit);
          return n.cmp === 0 ? units === n.n : n.cmp > 0 ? units > n.n : units < n.n;
        }
        case 'perm': {
          const m = e.stats.mode & 0o7777;
          return n.kind === 'exact'
            ? m === n.mode
            : n.kind === 'all'
              ? (m & n.mode) === n.mode
              : n.mode === 0 || (m & n.mode) !== 0;
        }
        case 'user':
          return e.stats.uid === n.id;
        case 'group':
          return e.stats.gid === n.id;
        case 'newer':
          return e.stats.mtimeMs > n.ms;
        case 'print':
          await ctx.stdout.write(shown + n.sep);
          return true;
        case 'delete':
          try {
            if (e.stats.isDirectory()) await ctx.fs.rmdir(e.path);
            else await ctx.fs.unlink(e.path);
            return true;
          } catch (err) {
            await ctx.error(`cannot delete '${shown}': ${fsErrorText(err)}`);
            status = 1;
            return false;
          }
        case 'prune':
          prune.value = true;
          return true;
        case 'quit':
          quit = true;
          return true;
        case 'exec': {
          if (n.plus) {
            const list = pending.get(n) ?? [];
            list.push(shown);
            pending.set(n, list);
            return true;
          }
          const argv = n.argv.map((a) => a.split('{}').join(shown));
          return (await ctx.exec(argv)) === 0;
        }
      }
    };
    for (const start of paths) {
      const root = ctx.resolve(start);
      try {
        await ctx.fs.lstat(root);
      } catch (err) {
        await ctx.error(`'${start}': ${fsErrorText(err)}`);
        status = 1;
        continue;
      }
      const pruned: string[] = [];
      const walkOptions: { postorder: boolean; maxDepth?: number } = { postorder: parsed.depthFirst };
      if (parsed.maxDepth !== undefined) walkOptions.maxDepth = parsed.maxDepth;
      for await (const e of walk(ctx.fs, root, walkOptions)) {
        if (quit) break;
        if (pruned.some((p) => e.path.startsWith(`${p}/`))) continue;
        if (e.depth < parsed.minDepth) continue;
        const rel = posix.relative(root, e.path);
        const shown = rel === '' ? start : start.endsWith('/') ? start + rel : `${start}/${rel}`;
        const prune = { value: false };
        const ok = await evaluate(parsed.expr, e, shown, prune);
        if (prune.value && e.stats.isDirectory()) pruned.push(e.path);
        if (ok && !parsed.hasAction) await ctx.stdout.write(`${shown}\n`);
      }
    }
    for (const [node, list] of pending) {
      if ((await ctx.exec([...node.argv, ...list])) !== 0) status = 1;
    }
    return status;
  },
};
