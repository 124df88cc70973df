/**
 * An image described the way `docker image inspect` describes it (Id, RepoTags, Created, Config,
 * Architecture, Os, Size, RootFS...), with the manifest's descriptor as Docker's containerd
 * store adds it. This is the shape `layerkit inspect --format` templates run on.
 */
import type { Digest } from '../digest/digest.js';
import { familiarReference } from '../oci/reference.js';
import type { Descriptor, HealthConfig, Platform } from '../oci/types.js';
import type { Store } from '../store/store.js';
import { resolveImage, type ImageLike } from './image.js';

/** `Config` of {@link ImageInspect}: Docker's container config, with its fields in Docker's order. */
export interface ImageInspectConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Image: string;
  Volumes: Record<string, Record<string, never>> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[];
}

/** What `docker image inspect` prints for one image (one element of its array). */
export interface ImageInspect {
  /** The config digest: Docker's image ID. */
  Id: Digest;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ImageInspectConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  /** Bytes of the config and layer blobs as stored. */
  Size: number;
  RootFS: { Type: string; Layers: Digest[] };
  Metadata: { LastTagTime: string };
  /** The manifest's descriptor (Docker adds it with the containerd image store). */
  Descriptor: Descriptor;
}

/** Options for {@link inspectImage}. */
export interface InspectImageOptions {
  store: Store;
  /** A ref name, digest or unique prefix, a descriptor, or a loaded image. */
  image: ImageLike;
  /** From an index, this platform's image (default: the host's). */
  platform?: Platform | undefined;
}

/**
 * Describes an image as `docker image inspect` does.
 * @example const { Config } = await inspectImage({ store, image: 'app:1' }); Config.Cmd
 */
export async function inspectImage({ store, image, platform }: InspectImageOptions): Promise<ImageInspect> {
  const img = await resolveImage({ store, image, platform });
  const c = img.config;
  const cc = c.config ?? {};
  const config: ImageInspectConfig = {
    Hostname: '',
    Domainname: '',
    User: cc.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(cc.ExposedPorts ? { ExposedPorts: cc.ExposedPorts } : {}),
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: cc.Env ?? null,
    Cmd: cc.Cmd ?? null,
    ...(cc.Healthcheck ? { Healthcheck: cc.Healthcheck } : {}),
    ...(cc.ArgsEscaped ? { ArgsEscaped: cc.ArgsEscaped } : {}),
    Image: '',
    Volumes: cc.Volumes ?? null,
    WorkingDir: cc.WorkingDir ?? '',
    Entrypoint: cc.Entrypoint ?? null,
    OnBuild: cc.OnBuild ?? null,
    Labels: cc.Labels ?? null,
    ...(cc.StopSignal ? { StopSignal: cc.StopSignal } : {}),
    ...(cc.Shell ? { Shell: cc.Shell } : {}),
  };
  const repoTags: string[] = [];
  for (const name of img.names) {
    let tag: string;
    try {
      tag = familiarReference(name);
    } catch {
      tag = name;
    }
    if (!repoTags.includes(tag)) repoTags.push(tag);
  }
  return {
    Id: img.manifest.config.digest,
    RepoTags: repoTags,
    RepoDigests: [],
    Parent: '',
    Comment: typeof c.comment === 'string' ? c.comment : '',
    Created: c.created ?? '',
    DockerVersion: typeof c.docker_version === 'string' ? c.docker_version : '',
    Author: c.author ?? '',
    Config: config,
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    ...(c['os.version'] ? { OsVersion: c['os.version'] } : {}),
    Size: img.manifest.config.size + img.layers.reduce((n, l) => n + l.size, 0),
    RootFS: { Type: c.rootfs.type, Layers: [...img.diffIds] },
    Metadata: { LastTagTime: '' },
    Descriptor: { mediaType: img.descriptor.mediaType, digest: img.descriptor.digest, size: img.descriptor.size },
  };
}
