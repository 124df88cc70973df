/**
 * `inspect --format`: Docker's image inspect shape with the Go types its fields have, so a
 * template prints what docker prints (`[]` for a null Entrypoint, `map[]` for null Labels,
 * `{}` for an exposed port's empty struct).
 */
import type { ImageInspect } from '../image/inspect.js';
import { GoNil, goStruct, parseTemplate, TemplateError } from './go-template.js';
import { UsageError } from './output.js';

const slice = (v: unknown[] | null | undefined): unknown => v ?? new GoNil('slice');
const map = (v: Record<string, unknown> | null | undefined): unknown => v ?? new GoNil('map');
const portSet = (v: Record<string, Record<string, never>> | null | undefined): unknown =>
  v ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, goStruct({ ...x })])) : new GoNil('map');

/**
 * The value `--format` templates run on, for one image: every field of Docker's Go types present
 * (an `omitempty` field the JSON leaves out still prints as its zero value), in Docker's order.
 */
export function inspectTemplateData(inspect: ImageInspect): unknown {
  const c = inspect.Config;
  const config = goStruct(
    {
      Hostname: c.Hostname,
      Domainname: c.Domainname,
      User: c.User,
      AttachStdin: c.AttachStdin,
      AttachStdout: c.AttachStdout,
      AttachStderr: c.AttachStderr,
      ExposedPorts: portSet(c.ExposedPorts),
      Tty: c.Tty,
      OpenStdin: c.OpenStdin,
      StdinOnce: c.StdinOnce,
      Env: slice(c.Env),
      Cmd: slice(c.Cmd),
      Healthcheck: c.Healthcheck
        ? goStruct({ ...c.Healthcheck, Test: slice(c.Healthcheck.Test) }, [
            'Test',
            'Interval',
            'Timeout',
            'StartPeriod',
            'StartInterval',
            'Retries',
          ])
        : new GoNil('pointer'),
      ArgsEscaped: c.ArgsEscaped ?? false,
      Image: c.Image,
      Volumes: portSet(c.Volumes),
      WorkingDir: c.WorkingDir,
      Entrypoint: slice(c.Entrypoint),
      OnBuild: slice(c.OnBuild),
      Labels: map(c.Labels),
      StopSignal: c.StopSignal ?? '',
      Shell: slice(c.Shell),
    },
    ['ExposedPorts', 'Healthcheck', 'ArgsEscaped', 'StopSignal', 'Shell'],
  );
  return goStruct(
    {
      Id: inspect.Id,
      RepoTags: slice(inspect.RepoTags),
      RepoDigests: slice(inspect.RepoDigests),
      Parent: inspect.Parent,
      Comment: inspect.Comment,
      Created: inspect.Created,
      DockerVersion: inspect.DockerVersion,
      Author: inspect.Author,
      Config: config,
      Architecture: inspect.Architecture,
      Variant: inspect.Variant ?? '',
      Os: inspect.Os,
      OsVersion: inspect.OsVersion ?? '',
      Size: inspect.Size,
      RootFS: goStruct({ Type: inspect.RootFS.Type, Layers: slice(inspect.RootFS.Layers) }),
      Metadata: goStruct({ LastTagTime: inspect.Metadata.LastTagTime }),
      Descriptor: goStruct({ ...inspect.Descriptor }, ['urls', 'annotations', 'data', 'platform', 'artifactType']),
    },
    ['Variant', 'OsVersion'],
  );
}

/** Parses a `--format` template; a bad one is a usage error naming Go's reason, as docker says. */
export function parseFormat(format: string): (data: unknown) => string {
  try {
    const t = parseTemplate(format);
    return (data) => {
      try {
        return t.execute(data);
      } catch (e) {
        if (e instanceof TemplateError)
          throw new UsageError(
            e.phase === 'parse' ? `template parsing error: ${e.message}` : e.message,
            '\'layerkit inspect --format "{{json .}}" IMAGE\' shows the fields a template can use',
          );
        throw e;
      }
    };
  } catch (e) {
    if (e instanceof TemplateError)
      throw new UsageError(
        `template parsing error: ${e.message}`,
        "Go's text/template syntax: https://pkg.go.dev/text/template",
      );
    throw e;
  }
}
