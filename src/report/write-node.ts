/**
 * Node-only: write a report's files (report.json, report.md, report.html)
 * into a folder, each atomically (temp file, then rename).
 */
import { join } from 'node:path';
import { encodeRgbaPng } from '../data/png.js';
import type { EvaluationReport } from '../eval/types.js';
import { writeFileAtomic } from '../files/atomic.js';
import { toHtml } from './html.js';
import { toJson } from './json.js';
import { toMarkdown } from './markdown.js';

export type ReportFormat = 'json' | 'md' | 'html';
export const REPORT_FORMATS: readonly ReportFormat[] = ['json', 'md', 'html'];

/** Returns the paths written. */
export async function writeReport(
  dir: string,
  report: EvaluationReport,
  options: { formats?: readonly ReportFormat[] } = {},
): Promise<string[]> {
  const formats = options.formats ?? REPORT_FORMATS;
  const written: string[] = [];
  for (const f of formats) {
    const path = join(dir, `report.${f}`);
    const text =
      f === 'json'
        ? toJson(report)
        : f === 'md'
          ? toMarkdown(report)
          : await toHtml(report, { encodePng: encodeRgbaPng });
    await writeFileAtomic(path, text);
    written.push(path);
  }
  return written;
}
