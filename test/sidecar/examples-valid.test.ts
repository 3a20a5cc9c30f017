import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { validateVersion } from '../../src/core/index.js';
import { validateContainers } from '../../src/sidecar/docker/spec.js';
import { parseConfig } from '../../src/sidecar/index.js';

// The README points at these files: each must be accepted as it stands.
const dir = fileURLToPath(new URL('../../examples/', import.meta.url));

t.test('every example config and version body validates', async (t) => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  t.ok(files.length >= 5);
  for (const f of files) {
    const json = JSON.parse(readFileSync(dir + f, 'utf8')) as Record<string, unknown>;
    if ('proxy' in json) {
      t.doesNotThrow(() => parseConfig(json), `${f}: a valid config`);
    } else {
      const cluster = json['cluster'] as Record<string, unknown>;
      const hasContainers = cluster['containers'] !== undefined;
      t.doesNotThrow(() => validateVersion(cluster, { extraKeys: ['containers'], serversOptional: hasContainers }), `${f}: a valid cluster`);
      if (hasContainers) t.doesNotThrow(() => validateContainers(cluster['containers'], 'cluster.containers'), `${f}: valid containers`);
    }
  }
});
