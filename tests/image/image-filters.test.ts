/**
 * `images --filter` as docker does it: Go's path.Match for reference patterns (the cases of Go's
 * own match_test.go), docker's FamiliarMatch (name:tag, then name), the parse errors, and the
 * AND-across-keys / OR-within-reference / AND-within-label rules, as a table; then listImages on a
 * store with tagged, untagged, labelled and dated images.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  build,
  importImage,
  listImages,
  matchImageFilters,
  openStore,
  parseImageFilters,
  removeImage,
  saveImages,
  type Store,
} from '../../src/index.js';
import { pathMatch, referenceMatches } from '../../src/low-level.js';
import { parseUntil } from '../../src/image/image-filters.js';

const HELLO = fileURLToPath(new URL('../../fixtures/images/hello.oci.tar', import.meta.url));

describe('pathMatch is Go path.Match', () => {
  // From Go's src/path/match_test.go.
  const cases: Array<[string, string, boolean | 'bad']> = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['a[^a][^a][^a]b', 'a☺b', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[\\-x]', 'x', true],
    ['[\\-x]', '-', true],
    ['[\\-x]', 'a', false],
    ['[]a]', ']', 'bad'],
    ['[-]', '-', 'bad'],
    ['[x-]', 'x', 'bad'],
    ['[-x]', 'x', 'bad'],
    ['\\', 'a', 'bad'],
    ['[', 'a', 'bad'],
    ['[^', 'a', 'bad'],
    ['[^bc', 'a', 'bad'],
    ['a[', 'a', 'bad'],
    ['a/b[', 'x', 'bad'],
    ['*x', 'xxx', true],
  ];
  it.each(cases)('%s against %s', (pattern, name, expected) => {
    if (expected === 'bad') expect(() => pathMatch(pattern, name)).toThrow();
    else expect(pathMatch(pattern, name)).toBe(expected);
  });
});

describe('referenceMatches is docker FamiliarMatch', () => {
  const cases: Array<[string, string, boolean]> = [
    ['busybox', 'busybox:latest', true],
    ['busybox:latest', 'busybox', true],
    ['busybox:*', 'busybox:1.36', true],
    ['busy*', 'busybox:1.36', true],
    ['busybox:1.*', 'busybox:2.0', false],
    ['*', 'library/busybox:1', true],
    ['*/*', 'org/app:1', true],
    ['*', 'org/app:1', false],
    ['localhost/*', 'localhost/app:2', true],
    ['docker.io/library/busybox', 'busybox:latest', false],
    ['app', 'app:1', true],
    ['app:?', 'app:10', false],
  ];
  it.each(cases)('%s against %s', (pattern, name, expected) => {
    expect(referenceMatches(pattern, name)).toBe(expected);
  });
});

describe('parseImageFilters', () => {
  it('collects values per key', () => {
    expect(
      parseImageFilters([
        'dangling=false',
        'reference=a*',
        'reference=b',
        'label=k',
        'label=k2=v=w',
        'Before=x',
        'since= y ',
      ]),
    ).toEqual({
      dangling: false,
      reference: ['a*', 'b'],
      label: [{ key: 'k' }, { key: 'k2', value: 'v=w' }],
      before: ['x'],
      since: ['y'],
      until: [],
    });
    expect(parseImageFilters(['dangling=1', 'dangling=true']).dangling).toBe(true);
  });
  const bad: Array<[string[], RegExp]> = [
    [['color=red'], /invalid filter 'color'/],
    [['dangling'], /bad format of filter "dangling"/],
    [['dangling=maybe'], /dangling=maybe/],
    [['dangling=true', 'dangling=false'], /both true and false/],
    [['reference=[x-'], /syntax error in pattern/],
    [['label='], /a label key is needed/],
    [['before='], /name an image/],
    [['until='], /invalid filter 'until=': use a duration/],
    [['until=yesterday'], /invalid filter 'until=yesterday'/],
    [['until=2024-13-01'], /until=2024-13-01/],
    [['until=10 m'], /until=10 m/],
    [['until=1h-5m'], /until=1h-5m/],
  ];
  it.each(bad)('refuses %j', (filters, message) => {
    expect(() => parseImageFilters(filters)).toThrow(message);
    try {
      parseImageFilters(filters);
    } catch (e) {
      expect((e as { code: string }).code).toBe('ERR_USAGE');
    }
  });
});

describe('parseUntil is docker timetypes.GetTimestamp', () => {
  const now = Date.UTC(2024, 4, 1, 12, 0, 0);
  it.each([
    ['24h', now - 86_400_000],
    ['1h30m', now - 5_400_000],
    ['2.5h', now - 9_000_000],
    ['90s', now - 90_000],
    ['1500ms', now - 1500],
    ['-1h', now + 3_600_000],
    ['2024-05-01T10:00:00Z', Date.UTC(2024, 4, 1, 10)],
    ['2024-05-01T10:00:00.250Z', Date.UTC(2024, 4, 1, 10, 0, 0, 250)],
    ['2024-05-01T10:00:00+02:00', Date.UTC(2024, 4, 1, 8)],
    ['2024-05-01T10:00:00-01:30', Date.UTC(2024, 4, 1, 11, 30)],
    ['2024-05-01', new Date(2024, 4, 1).getTime()],
    ['2024-05-01T10', new Date(2024, 4, 1, 10).getTime()],
    ['2024-05-01T10:20', new Date(2024, 4, 1, 10, 20).getTime()],
    ['2024-05-01T10:20:30', new Date(2024, 4, 1, 10, 20, 30).getTime()],
    ['1714557600', 1_714_557_600_000],
    ['1714557600.5', 1_714_557_600_500],
    ['0', 0],
  ] as Array<[string, number]>)('until=%s', (value, expected) => {
    expect(parseUntil(value, now)).toBe(expected);
  });
  test.prop([fc.integer({ min: 0, max: 4_000_000_000_000 })])('an ISO time with Z reads back as itself', (ms) => {
    expect(parseUntil(new Date(ms).toISOString().replace(/^\+0*/, ''), 0)).toBe(ms);
  });
  test.prop([fc.nat({ max: 1000 }), fc.nat({ max: 59 }), fc.nat({ max: 59 }), fc.nat({ max: 5_000_000_000_000 })])(
    'a duration counts back from now',
    (h, m, sec, at) => {
      expect(parseUntil(`${h}h${m}m${sec}s`, at)).toBe(at - ((h * 60 + m) * 60 + sec) * 1000);
    },
  );
});

describe('matchImageFilters', () => {
  const image = { names: ['app:1', 'app:latest', 'other:x'], labels: { team: 'a', tier: 'web' }, created: 1000 };
  const cases: Array<[string[], string[] | undefined]> = [
    [[], ['app:1', 'app:latest', 'other:x']],
    [['dangling=false'], ['app:1', 'app:latest', 'other:x']],
    [['dangling=true'], undefined],
    [['reference=app'], ['app:1', 'app:latest']],
    [
      ['reference=app:1', 'reference=other:*'],
      ['app:1', 'other:x'],
    ],
    [['reference=nope'], undefined],
    [['label=team'], image.names],
    [['label=team=a', 'label=tier=web'], image.names],
    [['label=team=a', 'label=tier=db'], undefined],
    [['label=team=b'], undefined],
    [['label=team', 'reference=other'], ['other:x']],
    [['label=team', 'dangling=true'], undefined],
  ];
  it.each(cases)('%j', (filters, expected) => {
    expect(matchImageFilters(image, parseImageFilters(filters))).toEqual(expected);
  });
  it('until keeps what was created strictly before the earliest until', () => {
    const f = parseImageFilters(['until=1h']);
    expect(matchImageFilters(image, f, { before: [], since: [], until: [1001] })).toEqual(image.names);
    expect(matchImageFilters(image, f, { before: [], since: [], until: [1000] })).toBeUndefined();
    expect(matchImageFilters(image, f, { before: [], since: [], until: [5000, 900] })).toBeUndefined();
  });

  it('before and since compare creation times strictly; several of each narrow the window', () => {
    const f = parseImageFilters(['before=x', 'since=y']);
    expect(matchImageFilters(image, f, { before: [2000], since: [500] })).toEqual(image.names);
    expect(matchImageFilters(image, f, { before: [1000], since: [500] })).toBeUndefined();
    expect(matchImageFilters(image, f, { before: [2000, 900], since: [500] })).toBeUndefined();
    expect(matchImageFilters(image, f, { before: [2000], since: [500, 1000] })).toBeUndefined();
    expect(
      matchImageFilters({ ...image, created: undefined }, parseImageFilters(['before=x']), { before: [0], since: [] }),
    ).toEqual(image.names);
  });
  it('an untagged image is dangling and matches no reference', () => {
    const untagged = { names: [], labels: {}, created: 0 };
    expect(matchImageFilters(untagged, parseImageFilters(['dangling=true']))).toEqual([]);
    expect(matchImageFilters(untagged, parseImageFilters(['reference=*']))).toBeUndefined();
  });
});

describe('listImages with filters', () => {
  let tmp: string;
  let store: Store;
  it.beforeAll(async ({ fileTmp }) => {
    tmp = fileTmp;
    store = await openStore({ root: join(tmp, 'store') });
    await importImage({ store, source: HELLO, tags: ['hello:1'] });
    fs.mkdirSync(join(tmp, 'ctx'));
    const make = (tag: string | undefined, epoch: number, labels: string) =>
      build({
        store,
        context: join(tmp, 'ctx'),
        dockerfileText: `FROM hello:1\nLABEL ${labels}\n`,
        tags: tag ? [tag] : [],
        sourceDateEpoch: epoch,
      });
    await make('app:1', 100, 'team=a tier=web');
    await make('app:2', 200, 'team=a tier=db');
    await make('tool:1', 300, 'team=b');
    // An untagged image: saved by ID, its name removed, loaded back without one.
    await make('temp:1', 400, 'team=c');
    const archive = join(tmp, 'temp.tar');
    const { digest } = store.resolveRef('temp:1').descriptor;

    await saveImages({ store, images: [digest], output: archive });
    await removeImage({ store, ref: 'temp:1' });
    await importImage({ store, source: archive });
  });

  const names = async (filters: string[]) =>
    (await listImages({ store, filters })).map((i) => (i.names.length ? i.names.join(',') : '<none>'));

  it.each([
    [[], ['hello:1', 'app:1', 'app:2', 'tool:1', '<none>']],
    [['dangling=true'], ['<none>']],
    [['dangling=false'], ['hello:1', 'app:1', 'app:2', 'tool:1']],
    [['reference=app'], ['app:1', 'app:2']],
    [
      ['reference=app:2', 'reference=tool'],
      ['app:2', 'tool:1'],
    ],
    [['label=team=a'], ['app:1', 'app:2']],
    [['label=team=a', 'label=tier=db'], ['app:2']],
    [['label=team'], ['app:1', 'app:2', 'tool:1', '<none>']],
    [['since=app:1'], ['app:2', 'tool:1', '<none>']],
    [['before=tool:1'], ['hello:1', 'app:1', 'app:2']],
    [['since=app:1', 'before=tool:1'], ['app:2']],
    [['since=app:1', 'dangling=true'], ['<none>']],
    [['until=1970-01-01T00:03:20Z'], ['hello:1', 'app:1']],
    [['until=250', 'since=app:1'], ['app:2']],
    [
      ['until=1970-01-01T00:06:40Z', 'until=350'],
      ['hello:1', 'app:1', 'app:2', 'tool:1'],
    ],
    [
      ['label=team', 'reference=*:1'],
      ['app:1', 'tool:1'],
    ],
  ] as Array<[string[], string[]]>)('%j', async (filters, expected) => {
    expect(await names(filters)).toEqual(expected);
  });

  it('until=DURATION counts back from now', async () => {
    const at = (seconds: number) => (filters: string[]) => listImages({ store, filters, now: seconds * 1000 });
    const list = async (now: number, f: string) =>
      (await at(now)([f, 'reference=*:[12]', 'since=hello:1'])).map((i) => i.names.join(','));
    expect(await list(400, 'until=3m20s')).toEqual(['app:1']);
    expect(await list(400, 'until=1m')).toEqual(['app:1', 'app:2', 'tool:1']);
    expect(await list(400, 'until=5m')).toEqual([]);
  });

  it('labels are part of each summary; an unknown before= image is ERR_NOT_FOUND', async () => {
    const all = await listImages({ store });
    expect(all.find((i) => i.names.includes('app:2'))?.labels).toEqual({ team: 'a', tier: 'db' });
    await expect(listImages({ store, filters: ['before=nope:1'] })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
});
