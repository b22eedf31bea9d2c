/**
 * The report as versioned JSON with a stable key order: top-level fields in
 * schema order, nested objects with sorted keys, so two runs with the same
 * results give byte-identical files (apart from the timing fields).
 */
import { AdvkitError } from '../errors.js';
import { type EvaluationReport, SCHEMA_VERSION } from '../eval/types.js';

export const TOP_LEVEL_ORDER: readonly (keyof EvaluationReport)[] = [
  'schemaVersion',
  'advkitVersion',
  'createdAt',
  'durationMs',
  'backend',
  'resumed',
  'model',
  'data',
  'threatModel',
  'seed',
  'batchSize',
  'clean',
  'checklist',
  'warnings',
  'cascade',
  'attacks',
  'curves',
  'minimalEpsilon',
  'diagnostics',
  'images',
];

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = sortKeys(o[k]);
    return out;
  }
  return v;
}

export function toJson(report: EvaluationReport, indent = 2): string {
  const out: Record<string, unknown> = {};
  for (const k of TOP_LEVEL_ORDER) out[k] = sortKeys(report[k]);
  return `${JSON.stringify(out, null, indent)}\n`;
}

/** Parse a report written by `toJson`, refusing another schema version. */
export function fromJson(text: string): EvaluationReport {
  const r = JSON.parse(text) as EvaluationReport;
  if (r?.schemaVersion !== SCHEMA_VERSION) {
    throw new AdvkitError(
      'INVALID_OPTION',
      `report schemaVersion ${JSON.stringify(r?.schemaVersion)} is not supported; this advkit reads version ${SCHEMA_VERSION}`,
    );
  }
  return r;
}
