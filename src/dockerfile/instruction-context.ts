/**
 * What each per-instruction converter gets: the node, the file name for messages, and helpers
 * that raise coded errors at the right place.
 */
import { ErrorCodes, type LayerkitError } from '../errors.js';
import { dockerfileError } from './dockerfile-error.js';
import { FlagSet } from './flags.js';
import type { Node } from './types.js';

/** The node being converted and how to report problems with it. */
export class InstructionContext {
  constructor(
    readonly node: Node,
    readonly file: string,
  ) {}

  /** The keyword as BuildKit names it in messages (`COPY`, `HEALTHCHECK`). */
  get name(): string {
    return this.node.keyword.toUpperCase();
  }

  /** An `ERR_DOCKERFILE_ARGUMENTS` error at the instruction. */
  argError(reason: string): LayerkitError {
    return dockerfileError(ErrorCodes.ERR_DOCKERFILE_ARGUMENTS, reason, { file: this.file, ...this.node.range.start });
  }

  /** A fresh flag set for this node (declare flags, then `parse()`). */
  flags(): FlagSet {
    return new FlagSet(this.node, this.file);
  }

  /** Throws `<X> requires at least one argument` when there are no arguments. */
  requireArgs(): void {
    if (this.node.args.length === 0) throw this.argError(`${this.name} requires at least one argument`);
  }

  /** Throws `<X> requires exactly one argument` unless there is exactly one. */
  requireOneArg(): string {
    const [only] = this.node.args;
    if (this.node.args.length !== 1 || only === undefined)
      throw this.argError(`${this.name} requires exactly one argument`);
    return only;
  }
}
