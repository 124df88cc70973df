/**
 * Asking a question on a terminal, as `docker login` asks for a user name and password: the
 * question on standard error, the answer read from a terminal standard input, the keys not echoed
 * for a secret. Ctrl-C is an interruption (`ERR_ABORTED`), Ctrl-D ends the answer. Keys typed
 * ahead (a pasted user name and password) are kept for the next question.
 */
import { ErrorCodes, LayerkitError } from '../errors.js';

/** Keys typed after an answer (pasted, or typed ahead), kept for the next question. */
const typedAhead = new WeakMap<NodeJS.ReadStream, string>();

/** The streams a question needs: a terminal to read, somewhere to write the question. */
export interface PromptStreams {
  input: NodeJS.ReadStream;
  output: NodeJS.WritableStream;
}

/**
 * Reads one line from the terminal `input` after writing `question` to `output`; with `secret`,
 * nothing typed is shown. Handles backspace; Ctrl-C rejects with `ERR_ABORTED`.
 */
export function promptLine(streams: PromptStreams, question: string, options: { secret: boolean }): Promise<string> {
  const { input, output } = streams;
  // Raw mode (no echo by the terminal) before the question shows: keys typed as soon as it does
  // must not be echoed.
  const wasRaw = input.isRaw;
  input.setRawMode(true);
  output.write(question);
  return new Promise((resolve, reject) => {
    let answer = '';
    let finished = false;
    const done = (rest: string, err?: Error): void => {
      finished = true;
      input.removeListener('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      // A CR LF pair ends one answer, not two.
      typedAhead.set(input, rest.replace(/^\n/, ''));
      output.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const take = (text: string): void => {
      const chars = [...text];
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i]!;
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          done(chars.slice(i + 1).join(''));
          return;
        }
        if (ch === '\u0003') {
          done('', new LayerkitError(ErrorCodes.ERR_ABORTED, 'interrupted at the prompt', {}));
          return;
        }
        if (ch === '\u007f' || ch === '\b') {
          if (answer.length > 0) {
            answer = [...answer].slice(0, -1).join('');
            if (!options.secret) output.write('\b \b');
          }
          continue;
        }
        if (ch < ' ') continue;
        answer += ch;
        if (!options.secret) output.write(ch);
      }
    };
    const onData = (chunk: Buffer): void => take(chunk.toString('utf8'));
    const ahead = typedAhead.get(input) ?? '';
    typedAhead.delete(input);
    take(ahead);
    if (finished) return;
    input.on('data', onData);
    input.resume();
  });
}
