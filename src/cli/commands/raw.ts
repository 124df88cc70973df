/** crane's raw views of an image: `config`, `manifest` and `digest`, byte for byte as stored. */
import { loadImage } from '../../image/image.js';
import { parsePlatform } from '../../image/platform.js';
import { readRawManifest } from '../../image/raw-manifest.js';
import { stringOption, type Command, type OptionSpec } from '../command.js';
import { println } from '../output.js';

const PLATFORM: OptionSpec = {
  type: 'string',
  value: 'OS/ARCH',
  description: 'pick this platform from a multi-platform index',
};

function platformOf(options: Record<string, unknown>) {
  const p = stringOption(options as never, 'platform');
  return p ? parsePlatform(p) : undefined;
}

/** `layerkit config REF`: the image's config JSON, the exact stored bytes (crane config). */
export const configCommand: Command = {
  name: 'config',
  summary: "Print an image's config JSON as stored (crane config)",
  usage: '[--platform OS/ARCH] REF',
  description:
    "The exact bytes whose sha256 is the image ID, without a trailing newline, as 'crane config' prints them. From an index, the platform's image (default: this machine's).",
  examples: ['layerkit config app:1', 'layerkit config app:1 | jq .config.Env', 'layerkit config app:1 | sha256sum'],
  options: { platform: PLATFORM },
  args: { min: 1, max: 1 },
  async run(ctx, [ref], options) {
    const store = await ctx.store();
    const platform = platformOf(options);
    const image = await loadImage({ store, image: ref!, ...(platform ? { platform } : {}) });
    ctx.output.out.write(image.configBytes);
  },
};

/** `layerkit manifest REF`: the manifest (or index) as stored (crane manifest). */
export const manifestCommand: Command = {
  name: 'manifest',
  summary: 'Print the manifest (or index) a reference points at, as stored (crane manifest)',
  usage: '[--platform OS/ARCH] REF',
  description:
    "The exact bytes whose sha256 is the digest, without a trailing newline, as 'crane manifest' prints them. A multi-platform index is printed as the index unless --platform picks one of its manifests.",
  examples: [
    'layerkit manifest app:1',
    "layerkit manifest app:1 | jq -r '.layers[].digest'",
    'layerkit manifest --platform linux/arm64 multi:1',
  ],
  options: { platform: PLATFORM },
  args: { min: 1, max: 1 },
  async run(ctx, [ref], options) {
    const store = await ctx.store();
    const { bytes } = await readRawManifest({ store, image: ref!, platform: platformOf(options) });
    ctx.output.out.write(bytes);
  },
};

/** `layerkit digest REF`: the manifest digest (crane digest). */
export const digestCommand: Command = {
  name: 'digest',
  summary: 'Print the digest of the manifest (or index) a reference points at (crane digest)',
  usage: '[--platform OS/ARCH] REF',
  description:
    "The digest an image is pulled by (NAME@DIGEST); for a multi-platform index, the index's digest unless --platform picks one of its manifests. 'layerkit inspect --format {{.Id}}' prints the config digest (the image ID) instead.",
  examples: ['layerkit digest app:1', 'layerkit digest --platform linux/amd64 multi:1'],
  options: { platform: PLATFORM },
  args: { min: 1, max: 1 },
  async run(ctx, [ref], options) {
    const store = await ctx.store();
    const { digest } = await readRawManifest({ store, image: ref!, platform: platformOf(options) });
    println(ctx.output, digest);
  },
};
