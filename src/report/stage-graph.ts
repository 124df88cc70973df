/**
 * The stage graph of the last build: each stage, built or skipped, what it starts FROM and which
 * stages its `COPY --from` steps read.
 *
 * A build record keeps each stage's base and `COPY --from` sources as the build resolved them.
 * Records written before it did lack them: then the bases come from the Dockerfile when it is
 * still where the build read it and still has exactly the stages and instructions the record
 * lists; otherwise the target's chain of bases is what matching the image's history found, and
 * the other stages' bases are unknown.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { BuildRecord } from '../builder/build-record.js';
import { stageReference } from '../builder/plan.js';
import { expandInstruction, instructionText, parseDockerfile, toStages, type Stage } from '../dockerfile/index.js';
import type { StageEdge, StageNode } from './types.js';

/** Stage bases and `COPY --from` sources read from the Dockerfile of a build. */
export interface DockerfileStages {
  /** Stage → the earlier stage it starts FROM, or `null` when it starts from an image (or scratch). */
  bases: Map<string, string | null>;
  /** Stage → the image (or `scratch`) it starts FROM. */
  images: Map<string, string>;
  /** Stage → the stages and images its `COPY --from` steps name (stage ids for stages). */
  copyFrom: Map<string, string[]>;
}

const stageIdOf = (s: Stage): string => s.name ?? `stage-${s.index}`;

/** The stage graph a build recorded, else what {@link readDockerfileStages} finds in its Dockerfile. */
export function stagesOfBuild(record: BuildRecord): DockerfileStages | undefined {
  if (record.stages.length === 0 || !record.stages.every((s) => s.base !== undefined))
    return readDockerfileStages(record);
  const out: DockerfileStages = { bases: new Map(), images: new Map(), copyFrom: new Map() };
  for (const s of record.stages) {
    const base = s.base!;
    out.bases.set(s.stage, 'stage' in base ? base.stage : null);
    if ('image' in base) out.images.set(s.stage, base.image);
    out.copyFrom.set(s.stage, s.copyFrom ?? []);
  }
  return out;
}

/**
 * Reads the Dockerfile a build record names (relative to its context) and returns its stage
 * graph, or undefined when the file is gone, no longer parses, or no longer has the stages and
 * instructions (in the canonical text the record keeps) that the build ran.
 */
export function readDockerfileStages(record: BuildRecord): DockerfileStages | undefined {
  const path = isAbsolute(record.dockerfile) ? record.dockerfile : join(record.context, record.dockerfile);
  let stages: Stage[];
  let escapeToken: '\\' | '`';
  let metaEnv: Map<string, string>;
  try {
    const parsed = parseDockerfile(readFileSync(path), { file: record.dockerfile });
    const all = toStages(parsed);
    stages = all.stages;
    escapeToken = parsed.directives.escape;
    metaEnv = new Map();
    for (const arg of all.metaArgs) {
      for (const a of expandInstruction(arg, { env: metaEnv, escapeToken, file: record.dockerfile }).instruction.args) {
        if (a.value !== undefined) metaEnv.set(a.key, a.value);
      }
    }
  } catch {
    return undefined;
  }
  if (stages.length !== record.stages.length) return undefined;
  for (const s of record.stages)
    if (stages[s.index] === undefined || stageIdOf(stages[s.index]!) !== s.stage) return undefined;
  const byId = new Map(stages.map((s) => [stageIdOf(s), s]));
  for (const step of record.steps) {
    if (step.index <= 0) continue; // ONBUILD triggers come from the base image, not this file
    const ins = byId.get(step.stage)?.instructions[step.index - 1];
    if (ins === undefined || instructionText(ins.node) !== step.instruction) return undefined;
  }
  const out: DockerfileStages = { bases: new Map(), images: new Map(), copyFrom: new Map() };
  for (const stage of stages) {
    const id = stageIdOf(stage);
    let image = stage.from.image;
    try {
      image = expandInstruction(stage.from, { env: metaEnv, escapeToken, file: record.dockerfile }).instruction.image;
    } catch {
      // keep the text as written: an ARG given with --build-arg only
    }
    const base = stageReference(stages, image, stage.index);
    out.bases.set(id, base === undefined ? null : stageIdOf(stages[base]!));
    if (base === undefined) out.images.set(id, image);
    const sources: string[] = [];
    for (const ins of stage.instructions) {
      if (ins.keyword !== 'copy' || ins.from === undefined) continue;
      const ref = stageReference(stages, ins.from, stage.index);
      sources.push(ref === undefined ? ins.from : stageIdOf(stages[ref]!));
    }
    out.copyFrom.set(id, [...new Set(sources)]);
  }
  return out;
}

/** Options for {@link buildStageGraph}. */
export interface BuildStageGraphOptions {
  record: BuildRecord;
  /** From {@link readDockerfileStages}, when the Dockerfile was usable. */
  dockerfile?: DockerfileStages | undefined;
  /** Bases found by matching the image's history (stage → earlier stage). */
  inferredBases?: ReadonlyMap<string, string> | undefined;
}

/** The stages of a build with their bases, `COPY --from` sources and step counts, and the edges between them. */
export function buildStageGraph({ record, dockerfile, inferredBases }: BuildStageGraphOptions): {
  stages: StageNode[];
  edges: StageEdge[];
} {
  const ids = record.stages.map((s) => s.stage);
  const resolve = (name: string, before: number): string => {
    if (/^[0-9]+$/.test(name)) return Number(name) < before ? (ids[Number(name)] ?? name) : name;
    const lower = name.toLowerCase();
    const hit = record.stages.filter((s) => s.index < before && s.stage === lower);
    return hit.length > 0 ? hit[hit.length - 1]!.stage : name;
  };
  const stages = record.stages.map((s): StageNode => {
    const node: StageNode = {
      stage: s.stage,
      index: s.index,
      status: s.status,
      target: s.stage === record.target,
      copyFrom: [],
      counts: { cached: 0, built: 0, config: 0, skipped: 0 },
    };
    const copies = new Set<string>();
    for (const step of record.steps) {
      if (step.stage !== s.stage) continue;
      if (step.status === 'skipped') node.counts.skipped++;
      else if (step.status === 'cached') node.counts.cached++;
      else if (step.metadata) node.counts.config++;
      else node.counts.built++;
      const m = /^COPY\b.*?\s--from=(\S+)/i.exec(step.instruction.split('\n', 1)[0]!);
      if (m) copies.add(resolve(m[1]!, s.index));
    }
    if (dockerfile) {
      const base = dockerfile.bases.get(s.stage);
      const image = dockerfile.images.get(s.stage);
      if (base) node.base = { stage: base };
      else if (image !== undefined) node.base = { image };
      node.copyFrom = dockerfile.copyFrom.get(s.stage) ?? [...copies];
    } else {
      const base = inferredBases?.get(s.stage);
      if (base !== undefined) node.base = { stage: base };
      node.copyFrom = [...copies];
    }
    return node;
  });
  const known = new Set(ids);
  const edges: StageEdge[] = [];
  for (const s of stages) {
    if (s.base && 'stage' in s.base) edges.push({ from: s.base.stage, to: s.stage, kind: 'from' });
    for (const c of s.copyFrom) if (known.has(c)) edges.push({ from: c, to: s.stage, kind: 'copy' });
  }
  return { stages, edges };
}
