/** `chgrp`: changes file groups. */
import type { UtilityDefinition } from '../utility.js';
import { changeOwners } from './chown.js';

/** `chgrp [-R] [-h] [-f] GROUP FILE...`: `chown :GROUP`. */
export const chgrp: UtilityDefinition = {
  name: 'chgrp',
  synopsis: 'chgrp [-R] [-h] [-f] [-v] GROUP FILE...',
  description: "Change group, by name (the image's /etc/group) or number; -R, -h.",
  run: (ctx) => changeOwners(ctx, true),
};
