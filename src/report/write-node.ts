/**
 * Node-only: write a report's files (report.json, report.md, report.html,
 * and robustbench.json for a cascade) into a folder as one set: a process
 * killed while writing leaves the folder with the previous complete set or
 * the new one (see `writeFileSetAtomic`), and temporaries a killed run left
 * are removed.
 */
import { encodeRgbaPng } from '../data/png.js';
import type { EvaluationReport } from '../eval/types.js';
import { writeFileSetAtomic } from '../files/atomic.js';
import { toHtml } from './html.js';
import { toJson } from './json.js';
import { toMarkdown } from './markdown.js';
import { robustBenchSummary } from './robustbench.js';

export type ReportFormat = 'json' | 'md' | 'html';
export const REPORT_FORMATS: readonly ReportFormat[] = ['json', 'md', 'html'];

/** Returns the paths written. */
export async function writeReport(
  dir: string,
  report: EvaluationReport,
  options: { formats?: readonly ReportFormat[] } = {},
): Promise<string[]> {
  const formats = options.formats ?? REPORT_FORMATS;
  const files: Record<string, string> = {};
  for (const f of formats) {
    files[`report.${f}`] =
      f === 'json'
        ? toJson(report)
        : f === 'md'
          ? toMarkdown(report)
          : await toHtml(report, { encodePng: encodeRgbaPng });
  }
  // A cascade (the AutoAttack presets) also gets its RobustBench-shaped summary, in the same set.
  const summary = formats.includes('json') ? robustBenchSummary(report) : null;
  if (summary) files['robustbench.json'] = `${JSON.stringify(summary, null, 2)}\n`;
  // An earlier cascade's summary in the same folder would describe another run.
  return writeFileSetAtomic(dir, files, summary ? [] : ['robustbench.json']);
}
