/**
 * WORKDIR: sets the working directory (relative paths join the previous one; absolute paths are
 * kept as written) and creates it, with parents, 0755 and owned by the USER — a layer, unless the
 * path is `/`.
 */
import { posix } from 'node:path';
import type { WorkdirInstruction } from '../../dockerfile/index.js';
import { resolveUser } from '../../shell/users.js';
import { inheritedCreated } from '../build-run.js';
import { cachedLayerStep, type FsStepContext } from '../cached-step.js';

/** Runs a WORKDIR instruction. */
export async function runWorkdir(ctx: FsStepContext, instruction: WorkdirInstruction): Promise<void> {
  const { run, state, record } = ctx;
  const c = (state.config.config ??= {});
  if (instruction.path === '') return;
  const path = instruction.path.startsWith('/') ? instruction.path : posix.join(c.WorkingDir || '/', instruction.path);
  c.WorkingDir = path;
  const clean = posix.normalize(path);
  if (clean === '/') {
    record.metadata = true;
    state.history.push({
      created: inheritedCreated(run, state.history),
      created_by: `WORKDIR ${path}`,
      comment: 'buildkit.dockerfile.v0',
      empty_layer: true,
    });
    return;
  }
  const user = c.User ?? '';
  await cachedLayerStep(ctx, {
    components: { parent: state.key, instruction: `WORKDIR ${clean}`, user },
    createdBy: `WORKDIR ${path}`,
    execute: async (fs) => {
      const owner = user ? await resolveUser({ fs, user }) : { uid: 0, gid: 0 };
      const missing: string[] = [];
      for (let p = clean; p !== '/' && !fs.existsSync(p); p = posix.dirname(p)) missing.unshift(p);
      for (const p of missing) {
        fs.mkdirSync(p, { mode: 0o755 });
        fs.chmodSync(p, 0o755);
        fs.lchownSync(p, owner.uid, owner.gid);
      }
    },
  });
}
