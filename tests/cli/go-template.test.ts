/**
 * The Go text/template subset behind `inspect --format`, as a table: docker's documented
 * formatting examples (docs.docker.com/engine/cli/formatting) and Go's text/template semantics
 * (printing with %v, missing keys, scoping, trim markers, short-circuit and/or, errors).
 */
import { describe, expect, it } from 'vitest';
import { GoNil, goStruct, parseTemplate, TemplateError } from '../../src/cli/go-template.js';

const data = goStruct({
  Name: 'web-1',
  Names: ['web', 'frontend'],
  Image: 'nginx:1.25',
  Size: 1234000,
  Ratio: 0.5,
  Running: true,
  Empty: '',
  Nil: new GoNil('slice'),
  NilMap: new GoNil('map'),
  Labels: { 'com.example.b': '2', 'com.example.a': '1' },
  Ports: {
    '80/tcp': [goStruct({ HostIp: '0.0.0.0', HostPort: '8080' })],
    '443/tcp': [goStruct({ HostIp: '', HostPort: '8443' })],
  },
  Networks: { bridge: goStruct({ IPAddress: '172.17.0.2' }), front: goStruct({ IPAddress: '10.0.0.5' }) },
  Config: goStruct({ Cmd: ['nginx', '-g', 'daemon off;'], Env: ['A=1', 'B=2'], Entrypoint: new GoNil('slice') }),
  Exposed: { '80/tcp': goStruct({}) },
});

const cases: Array<[template: string, expected: string]> = [
  // docker's formatting page
  ['{{join .Names " , "}}', 'web , frontend'],
  ['{{json .Labels}}', '{"com.example.a":"1","com.example.b":"2"}'],
  ['{{lower "ABC"}}{{upper .Name}}', 'abcWEB-1'],
  ['{{split .Image ":"}}', '[nginx 1.25]'],
  ['{{title .Name}}', 'Web-1'],
  ['{{range .Networks}}{{println .IPAddress}}{{end}}', '172.17.0.2\n10.0.0.5\n'],
  ['{{pad .Name 2 3}}|', '  web-1   |'],
  ['{{truncate .Image 5}}', 'nginx'],
  // docker inspect's examples
  ['{{range $p, $conf := .Ports}} {{$p}} -> {{(index $conf 0).HostPort}} {{end}}', ' 443/tcp -> 8443  80/tcp -> 8080 '],
  ['{{json .Config}}', '{"Cmd":["nginx","-g","daemon off;"],"Env":["A=1","B=2"],"Entrypoint":null}'],
  ['{{.Config.Cmd}}', '[nginx -g daemon off;]'],
  // Go's %v
  ['{{.Config.Entrypoint}} {{.Nil}} {{.NilMap}} {{.Exposed}}', '[] [] map[] map[80/tcp:{}]'],
  ['{{.Labels}}', 'map[com.example.a:1 com.example.b:2]'],
  ['{{.Size}} {{.Ratio}} {{.Running}}', '1234000 0.5 true'],
  ['{{.Networks.bridge}}', '{172.17.0.2}'],
  ['{{.Missing}}', '<no value>'],
  ['{{index .Labels "com.example.a"}}|{{index .Labels "nope"}}', '1|<no value>'],
  ['{{index .Names 1}} {{index .Config.Cmd 0}}', 'frontend nginx'],
  ['{{len .Names}} {{len .Labels}} {{len .Name}} {{len .Nil}}', '2 2 5 0'],
  ['{{slice .Name 0 3}} {{slice .Names 1}}', 'web [frontend]'],
  // control flow
  ['{{if .Running}}up{{else}}down{{end}}', 'up'],
  ['{{if .Empty}}a{{else if .Nil}}b{{else if eq .Name "web-1"}}c{{else}}d{{end}}', 'c'],
  ['{{if and .Running .Empty}}x{{else}}y{{end}} {{or .Empty .Name}} {{and 1 0 2}}', 'y web-1 0'],
  ['{{if not .Empty}}empty{{end}}', 'empty'],
  ['{{with .Config}}{{.Env}}{{end}}{{with .Empty}}x{{else}}none{{end}}', '[A=1 B=2]none'],
  ['{{range .Nil}}x{{else}}nothing{{end}}', 'nothing'],
  ['{{range $i, $e := .Names}}{{if $i}},{{end}}{{$i}}:{{$e}}{{end}}', '0:web,1:frontend'],
  ['{{range .Config.Env}}{{if eq . "B=2"}}{{break}}{{end}}{{.}};{{end}}', 'A=1;'],
  ['{{range .Config.Env}}{{if eq . "A=1"}}{{continue}}{{end}}{{.}};{{end}}', 'B=2;'],
  ['{{range $k, $v := .Labels}}{{$k}}={{$v}}\n{{end}}', 'com.example.a=1\ncom.example.b=2\n'],
  ['{{$n := .Name}}{{range .Names}}{{$n}}/{{.}} {{end}}', 'web-1/web web-1/frontend '],
  ['{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}', '2'],
  ['{{range .Names}}{{$.Name}} {{end}}', 'web-1 web-1 '],
  // comparisons, printf, pipelines
  [
    '{{eq .Name "a" "web-1"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}',
    'true true true true true false',
  ],
  [
    '{{printf "%s has %d names (%v) %q %5.1f|%-4s|" .Name (len .Names) .Running .Image 3.14159 "ab"}}',
    'web-1 has 2 names (true) "nginx:1.25"   3.1|ab  |',
  ],
  ['{{.Name | printf "%s!"}} {{.Names | len}} {{"x" | printf "%s%s" "y"}}', 'web-1! 2 yx'],
  ['{{print "a" 1 2 "b"}} {{println}}', 'a1 2b \n'],
  ['{{html "<a&b>"}} {{js "it\'s"}} {{urlquery "a b&c"}}', "&lt;a&amp;b&gt; it\\'s a+b%26c"],
  // lexical details
  ['a  {{- .Name -}}  b', 'aweb-1b'],
  ['{{/* a comment */}}x{{- /* trimmed */ -}} y', 'xy'],
  ['{{"a\\tb"}} {{`raw\\t`}} {{\'x\'}} {{0x10}} {{-3}} {{1e3}}', 'a\tb raw\\t 120 16 -3 1000'],
  ['{{json "<&>"}}', '"<&>"'],
];

describe('Go template subset', () => {
  it.each(cases)('%s', (template, expected) => {
    expect(parseTemplate(template).execute(data)).toBe(expected);
  });

  const parseErrors: Array<[string, RegExp]> = [
    ['{{.Name', /unclosed action/],
    ['{{if .Running}}x', /unexpected EOF/],
    ['{{end}}', /unexpected \{\{end\}\}/],
    ['{{nosuch .Name}}', /function "nosuch" not defined/],
    ['{{"abc}}', /unterminated quoted string/],
    ['{{(.Name}}', /unclosed left paren/],
    ['{{define "x"}}{{end}}', /not supported/],
    ['{{.Name | }}', /missing command/],
    ['{{$undefined}}', /undefined variable/],
  ];
  it.each(parseErrors)('refuses %s', (template, message) => {
    let err: unknown;
    try {
      parseTemplate(template).execute(data);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).phase).toBe('parse');
    expect((err as Error).message).toMatch(message);
  });

  const execErrors: Array<[string, RegExp]> = [
    ['{{.Missing.Deeper}}', /executing "" at <\.Missing\.Deeper>: nil pointer evaluating interface \{\}\.Deeper/],
    ['{{.Name.Foo}}', /can't evaluate field Foo in type string/],
    ['{{index .Names 5}}', /index out of range: 5/],
    ['{{len .Running}}', /len of type bool/],
    ['{{range .Name}}{{end}}', /range can't iterate over web-1/],
    ['{{.Name 1}}', /can't give argument to non-function \.Name/],
    ['{{lt .Name 1}}', /incompatible types for comparison/],
    ['{{upper .Size}}', /expected string; got int/],
  ];
  it.each(execErrors)('fails to run %s', (template, message) => {
    const t = parseTemplate(template);
    expect(() => t.execute(data)).toThrow(message);
  });

  it('a parsed template runs on many values', () => {
    const t = parseTemplate('{{.Name}}');
    expect(['a', 'b'].map((Name) => t.execute(goStruct({ Name })))).toEqual(['a', 'b']);
  });
});
