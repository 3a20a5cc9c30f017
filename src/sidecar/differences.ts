import type { ComparisonStatus, FieldReport, VersionStatus } from '../core/index.js';
import { table } from './client.js';

/** `upshift diff ID`: one version's comparison with the previous version (from `GET /status`), as text. */
export function differencesTable(v: Pick<VersionStatus, 'uuid' | 'version' | 'state'> & { comparison: ComparisonStatus }): string {
  const c = v.comparison;
  const baseline = c.noiseBaseline.available
    ? `noise baseline from two servers of the previous version (${c.noiseBaseline.compared} comparisons)`
    : 'no noise baseline (the previous version has one server): only the ignored headers and fields filter noise';
  const lines = [
    `version ${v.version} (${v.uuid}), ${v.state}: ${c.compared} compared in the window (${c.comparedTotal} in all), verdict ${c.verdict}${c.enabled ? '' : ' (comparison off)'}`,
    baseline,
  ];
  if (c.differences.length === 0 && c.noise.length === 0) {
    lines.push('no field differed');
    return lines.join('\n') + '\n';
  }
  const rows = [['FIELD', 'KIND', 'COUNT', 'RATE', 'TOTAL', 'NOISE', 'NEWEST', 'PREVIOUS']];
  const row = (f: FieldReport, kind: string): string[] => [
    f.field, kind, String(f.count), `${(f.rate * 100).toFixed(1)}%`, String(f.total),
    f.noise === undefined ? '-' : `${f.noise.count}/${f.noise.compared}`, shown(f.sample.newest), shown(f.sample.previous),
  ];
  for (const f of c.differences) rows.push(row(f, 'difference'));
  for (const f of c.noise) rows.push(row(f, 'noise'));
  lines.push(table(rows));
  return lines.join('\n') + '\n';
}

/** A sample value on one table line. */
function shown(s: string): string {
  const one = s.replace(/[\r\n\t]/g, ' ');
  return one.length <= 40 ? one : `${one.slice(0, 39)}…`;
}
