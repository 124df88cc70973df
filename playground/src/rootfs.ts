/**
 * The playground's base image: a small busybox-like root filesystem made in the page from text,
 * so no binary is shipped. `/bin/busybox` is a text file saying what runs the commands (the
 * virtual shell, whose utilities are layerkit's own); every command the virtual shell knows gets
 * a `/bin/NAME -> busybox` link, as busybox installs its applets.
 */
import type { PlaygroundFile } from './files-fs.js';

/** The image names the base image gets: `busybox`, and `hello`, the base the lessons use. */
export const BASE_TAGS = ['busybox', 'hello'] as const;

/** The Dockerfile that makes the base image from the files of {@link rootfsFiles} (under `rootfs/`). */
export const BASE_DOCKERFILE = [
  'FROM scratch',
  'COPY rootfs/ /',
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'CMD ["sh"]',
  '',
].join('\n');

/** The files of the base image's root filesystem, under `rootfs/`; `commands` are the shell's utilities. */
export function rootfsFiles(commands: readonly string[]): PlaygroundFile[] {
  const file = (path: string, text: string, mode = 0o644): PlaygroundFile => ({ path: `rootfs/${path}`, text, mode });
  const busybox = [
    '#!/bin/sh',
    '# Not a binary: in the playground, RUN steps are executed by layerkit’s virtual shell,',
    '# a POSIX shell with these utilities built in:',
    ...commands.map((c) => `#   ${c}`),
    '',
  ].join('\n');
  return [
    file('bin/busybox', busybox, 0o755),
    ...commands
      .filter((c) => c !== 'busybox')
      .map((c): PlaygroundFile => ({ path: `rootfs/bin/${c}`, text: '', link: 'busybox', mode: 0o777 })),
    file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n'),
    file('etc/group', 'root:x:0:\nnogroup:x:65534:\n'),
    file('etc/hostname', 'playground\n'),
    file('etc/motd', 'Welcome to the layerkit playground.\n'),
    file('etc/os-release', 'NAME="playground"\nID=playground\nPRETTY_NAME="layerkit playground base"\n'),
    file('root/.profile', 'export PS1="# "\n'),
    file('tmp/.keep', '', 0o644),
    file('usr/share/doc/README', 'A small busybox-like root filesystem, made from text by the page.\n'),
    file('var/cache/.keep', ''),
  ];
}
