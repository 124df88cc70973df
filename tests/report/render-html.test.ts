/**
 * The HTML report without a browser: self-contained (a CSP that forbids loading, no URLs), every
 * text escaped (paths and commands come from images, so from anyone), and the sections present
 * whether or not a build record exists. The browser test checks how it renders.
 */
import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { renderExplainHtml, type ImageAnalysis } from '../../src/index.js';
import { escapeHtml } from '../../src/report/html-svg.js';
import { fixedAnalysis } from './fixed-analysis.js';

const count = (text: string, needle: string | RegExp): number => text.split(needle).length - 1;

describe('renderExplainHtml', () => {
  const html = renderExplainHtml(fixedAnalysis());

  it('is one self-contained document', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    );
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).not.toMatch(/<(link|script|img|iframe)[^>]+(src|href)="(?!data:|#)/);
    expect(count(html, '<script>')).toBe(1);
    expect(count(html, '<style>')).toBe(1);
  });

  it('escapes paths from the image', () => {
    expect(html).toContain('/srv/www/&lt;b&gt;.html');
    expect(html).not.toContain('<b>.html');
  });

  it('has every section', () => {
    for (const id of ['summary', 'stack', 'layers', 'waste', 'cache', 'stages']) expect(html).toContain(`id="${id}"`);
    expect(count(html, /<details class="layer"/g)).toBe(4);
    expect(count(html, /<a href="#layer-\d+" class="bar"/g)).toBe(4);
    expect(html).toContain('The same layer (diffID) as #1');
    expect(html).toContain('FROM ?');
  });

  it('says so when there is no build record', () => {
    const { build: _b, ...rest } = fixedAnalysis();
    const page = renderExplainHtml(rest as ImageAnalysis);
    expect(page).toContain('The store has no record of a build of this image');
    expect(page).not.toContain('id="stages"');
  });

  it('caps long file lists and counts the rest', () => {
    const page = renderExplainHtml(fixedAnalysis(), { maxFiles: 2 });
    expect(page).toContain('… and 4 more</li>');
  });

  test.prop([fc.string(), fc.string()])('any name or command is escaped', (name, command) => {
    const a = fixedAnalysis();
    a.image.names = [name];
    a.layers[0]!.createdBy = command;
    const page = renderExplainHtml(a);
    expect(page).toContain(`<h1>${escapeHtml(name)}</h1>`);
    expect(count(page, '<script>')).toBe(1);
    expect(count(page, '</script>')).toBe(1);
  });
});
