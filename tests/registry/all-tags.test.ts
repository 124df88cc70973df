/**
 * `layerkit pull --all-tags REPO` (docker pull -a) and `pull -t A -t B REF`: against the real
 * docker-registry (which lists tags unsorted and ignores `n`), every tag lands under its own name,
 * blobs the tags share are downloaded once, and a tag or digest with --all-tags is refused. The
 * tags API's paging (`n`, the `Link` header, `last=` without one) against a scripted registry
 * (undici MockAgent), including a next page on another host, which is not followed.
 */
import { join } from 'node:path';
import { MockAgent } from 'undici';
import { afterAll, describe, expect } from 'vitest';
import { it, test } from '../helpers/fixtures.js';
import { listTags, openStore, pullAllTags, pushImage, type Store } from '../../src/index.js';
import { registryTestbedMissing, startTestbed, type Testbed } from '../helpers/registry-testbed.js';
import { makeImage } from './images.js';
import { spawnCli } from '../helpers/spawn-cli.js';

const missing = registryTestbedMissing();
const env = { HOME: '/nonexistent-home' };

function names(store: Store): string[] {
  return store
    .readIndex()
    .manifests.map((d) => d.annotations?.['org.opencontainers.image.ref.name'] ?? '')
    .filter(Boolean)
    .sort();
}

describe.skipIf(missing !== undefined)(
  `pull --all-tags against a real registry${missing ? ` (${missing})` : ''}`,
  () => {
    let bed: Testbed;
    let tmp: string;
    let repo: string;
    const digests: Record<string, string> = {};
    test.beforeAll(async ({ fileTmp }) => {
      bed = await startTestbed({ plain: true });
      tmp = fileTmp;
      repo = `${bed.plain!.host}/team/app`;
      const src = await openStore({ memory: true });
      // 1 and latest are one image; 2 shares its base layer with 1; 0.9 is on its own.
      const base = { 'etc/base': 'base layer\n' };
      const one = await makeImage(src, 'one', [base, { 'app/v': '1\n' }]);
      const two = await makeImage(src, 'two', [base, { 'app/v': '2\n' }]);
      const old = await makeImage(src, 'old', [{ 'app/v': '0.9\n' }]);
      for (const [tag, image] of [
        ['latest', one],
        ['2', two],
        ['1', one],
        ['0.9', old],
      ] as const) {
        await pushImage({ store: src, image: image.descriptor, ref: `${repo}:${tag}`, env });
        digests[tag] = image.descriptor.digest;
      }
    });
    afterAll(async () => {
      await bed?.stop();
    });

    function cli(args: string[]) {
      return spawnCli(args, { cleanEnv: true, env: { PATH: process.env.PATH, HOME: join(tmp, 'home') } });
    }

    it('listTags gives every tag, sorted, though distribution 2.8 sends them unsorted', async () => {
      expect(await listTags({ ref: repo, env })).toEqual(['0.9', '1', '2', 'latest']);
      expect(await listTags({ ref: `${repo}:ignored`, env, pageSize: 2 })).toEqual(['0.9', '1', '2', 'latest']);
      await expect(listTags({ ref: `${bed.plain!.host}/no/such`, env })).rejects.toMatchObject({
        code: 'ERR_NOT_FOUND',
      });
    });

    it('pullAllTags names every tag; shared blobs move once; the same image again moves none', async () => {
      const store = await openStore({ memory: true });
      const seen: string[] = [];
      const all = await pullAllTags({ store, ref: repo, env, onTag: (r) => seen.push(r.tag) });
      expect(all.tags).toEqual(['0.9', '1', '2', 'latest']);
      expect(seen).toEqual(['0.9', '1', '2', 'latest'].map((t) => `${repo}:${t}`));
      expect(names(store)).toEqual(['0.9', '1', '2', 'latest'].map((t) => `${repo}:${t}`));
      const byTag = Object.fromEntries(all.pulls.map((p) => [p.tag.slice(repo.length + 1), p]));
      for (const [tag, digest] of Object.entries(digests)) expect(byTag[tag]!.image.descriptor.digest).toBe(digest);
      // 2 after 1: the base layer is there already; latest after 1: nothing to fetch.
      expect(byTag['2']!.blobs.find((b) => b.status === 'exists')).toBeDefined();
      expect(byTag.latest!.bytesDownloaded).toBe(0);
      expect(all.bytesDownloaded).toBe(all.pulls.reduce((n, p) => n + p.bytesDownloaded, 0));
      await expect(pullAllTags({ store, ref: `${repo}:1`, env })).rejects.toMatchObject({ code: 'ERR_USAGE' });
    });

    it('the CLI: pull --all-tags REPO, -a with a tag refused, -t several names', async () => {
      const storeDir = join(tmp, 'cli-store');
      const all = await cli(['pull', '--store', storeDir, '--progress', 'plain', '--all-tags', repo]);
      expect(all.err).not.toMatch(/error/i);
      expect(all.code).toBe(0);
      const lines = all.out.trim().split('\n');
      expect(lines).toHaveLength(5);
      for (const [i, tag] of ['0.9', '1', '2', 'latest'].entries())
        expect(lines[i]).toContain(`pulled ${repo}:${tag} ${digests[tag]}`);
      expect(lines[4]).toMatch(new RegExp(`^pulled 4 tags of ${repo} \\(`));
      expect(names(await openStore({ root: storeDir }))).toEqual(
        ['0.9', '1', '2', 'latest'].map((t) => `${repo}:${t}`),
      );

      const refused = await cli(['pull', '--store', storeDir, '-a', `${repo}:1`]);
      expect(refused.code).not.toBe(0);
      expect(refused.err).toMatch(/ERR_USAGE.*without a tag or digest/);

      const named = await cli(['pull', '--store', join(tmp, 'named'), '-t', 'app:1', '-t', 'app:stable', `${repo}:1`]);
      expect(named.code).toBe(0);
      expect(named.out).toContain(`pulled app:1, app:stable ${digests['1']}`);
      expect(names(await openStore({ root: join(tmp, 'named') }))).toEqual(['app:1', 'app:stable']);
    });
  },
);

describe('the tags API paging (scripted registry)', () => {
  /** A registry at https://reg.test whose tags/list answers `pages(query)`. */
  function registry(pages: (query: URLSearchParams) => { tags: unknown; link?: string }) {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const reg = agent.get('https://reg.test');
    reg.intercept({ path: '/v2/', method: 'GET' }).reply(200, '{}').persist();
    const asked: string[] = [];
    reg
      .intercept({ path: (p) => p.startsWith('/v2/app/tags/list'), method: 'GET' })
      .reply((opts) => {
        const query = new URL(opts.path, 'https://reg.test').searchParams;
        asked.push(query.toString());
        const page = pages(query);
        return {
          statusCode: 200,
          data: JSON.stringify({ name: 'app', tags: page.tags }),
          responseOptions: { headers: page.link ? { link: page.link } : {} },
        };
      })
      .persist();
    return { agent, asked };
  }

  const all = ['a', 'b', 'c', 'd', 'e'];
  /** A spec registry: sorted, `n` and exclusive `last`. */
  const page = (q: URLSearchParams) => {
    const n = Number(q.get('n'));
    const last = q.get('last');
    const from = last ? all.indexOf(last) + 1 : 0;
    return all.slice(from, from + n);
  };

  it('follows Link headers page by page', async () => {
    const { agent, asked } = registry((q) => {
      const tags = page(q);
      const more = all.indexOf(tags.at(-1)!) < all.length - 1;
      return { tags, ...(more ? { link: `</v2/app/tags/list?n=${q.get('n')}&last=${tags.at(-1)}>; rel="next"` } : {}) };
    });
    expect(await listTags({ ref: 'reg.test/app', env, dispatcher: agent, pageSize: 2 })).toEqual(all);
    expect(asked).toEqual(['n=2', 'n=2&last=b', 'n=2&last=d']);
    await agent.close();
  });

  it('without Link, asks for what follows the last tag of a full page; a registry ignoring last ends it', async () => {
    const paging = registry((q) => ({ tags: page(q) }));
    expect(await listTags({ ref: 'reg.test/app', env, dispatcher: paging.agent, pageSize: 2 })).toEqual(all);
    expect(paging.asked).toEqual(['n=2', 'n=2&last=b', 'n=2&last=d']);
    await paging.agent.close();

    const deaf = registry(() => ({ tags: ['b', 'a'] }));
    expect(await listTags({ ref: 'reg.test/app', env, dispatcher: deaf.agent, pageSize: 2 })).toEqual(['a', 'b']);
    expect(deaf.asked).toHaveLength(2);
    await deaf.agent.close();
  });

  it('refuses a next page on another host and a tag that is not one', async () => {
    const away = registry(() => ({
      tags: ['a'],
      link: '<https://elsewhere.test/v2/app/tags/list?last=a>; rel="next"',
    }));
    await expect(listTags({ ref: 'reg.test/app', env, dispatcher: away.agent })).rejects.toMatchObject({
      code: 'ERR_REGISTRY',
      message: expect.stringContaining('another host'),
    });
    await away.agent.close();
    const hostile = registry(() => ({ tags: ['ok', '../../etc'] }));
    await expect(listTags({ ref: 'reg.test/app', env, dispatcher: hostile.agent })).rejects.toMatchObject({
      code: 'ERR_REGISTRY',
      message: expect.stringContaining('invalid tag'),
    });
    await hostile.agent.close();
    const empty = registry(() => ({ tags: null }));
    expect(await listTags({ ref: 'reg.test/app', env, dispatcher: empty.agent })).toEqual([]);
    await empty.agent.close();
  });
});
