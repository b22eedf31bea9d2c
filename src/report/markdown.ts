/**
 * A Markdown summary to paste into a pull request: the setup, one table per
 * attack × ε with robust accuracy and success rate and their denominators,
 * minimal ε, warnings and the spec's checklist.
 */
import type { EvaluationReport } from '../eval/types.js';
import { num, optionsText, pct, ratioText } from './format.js';

/**
 * Text that came from outside advkit (a model path, a data folder's name, a
 * message quoting either) as literal Markdown: HTML's three specials become
 * entities, so no tag or comment survives, and Markdown's inline
 * punctuation is backslash-escaped, so no emphasis, link, image, code span
 * or table cell boundary appears that the name did not mean. One line.
 */
export function markdownText(s: string): string {
  return s
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]#|!~]/g, (c) => `\\${c}`);
}

const cell = markdownText;

export function toMarkdown(r: EvaluationReport): string {
  const out: string[] = [];
  const acc = r.clean.accuracy;
  out.push(`# advkit evaluation: ${markdownText(r.model.name)}`, '');
  out.push(
    `${r.data.examples} examples of ${markdownText(r.data.source)} · clean accuracy **${ratioText(acc)}** · ` +
      `${r.threatModel.normLabel}, ${r.threatModel.goalDescription} · seed ${r.seed} · ` +
      `${r.backend} · advkit ${r.advkitVersion} · ${(r.durationMs / 1000).toFixed(1)} s`,
    '',
  );
  out.push(
    '- **robust accuracy** = examples correct both clean and under attack / all examples',
    `- **attack success rate** = clean-correct examples the attack succeeds on / clean-correct examples (${acc.denominator - acc.numerator} already-wrong examples counted apart)`,
    '',
  );
  const errors = r.warnings.filter((w) => w.severity === 'error');
  if (errors.length > 0) {
    out.push(
      `> **${errors.length} sanity check(s) failed — the numbers below are not valid.**`,
      '',
    );
  }
  const c = r.cascade;
  if (c) {
    out.push('## Robust accuracy after each stage', '');
    out.push(
      `${c.version ?? 'A cascade'}: ${c.stages.map(cell).join(' → ')}, each attacking only the clean-correct examples every earlier stage left robust; an example counts as robust only if no attack broke it. Each cell: robust accuracy after the stage (examples it attacked → broke).`,
      '',
    );
    out.push(
      `| stage | ${c.perEpsilon.map((p) => `ε = ${num(p.epsilon)}`).join(' | ')} |`,
      `|---|${c.perEpsilon.map(() => '---:').join('|')}|`,
      `| clean | ${c.perEpsilon.map(() => ratioText(acc)).join(' | ')} |`,
    );
    c.stages.forEach((name, si) => {
      const cells = c.perEpsilon.map((p) => {
        const s = p.stages[si];
        const q = s.queries !== undefined ? `, ${s.queries} queries` : '';
        return `${ratioText(s.robustAccuracy)} (${s.attacked} → ${s.broken}${q})`;
      });
      out.push(`| ${cell(name)} | ${cells.join(' | ')} |`);
    });
    out.push(
      `| **robust to all** | ${c.perEpsilon.map((p) => `**${ratioText(p.robustAccuracy)}**`).join(' | ')} |`,
      '',
    );
  }
  for (const a of r.attacks) {
    const d = a.description;
    out.push(`## ${a.name} (${a.role === 'stronger' ? 'stronger baseline' : 'one-step'})`, '');
    out.push(
      `${d.paper} · norm ${d.norm} · loss ${d.loss} · clipping: ${d.clipping}` +
        (Object.keys(d.options).length ? ` · ${optionsText(d.options)}` : ''),
      '',
    );
    out.push(
      '| ε | robust accuracy | attack success rate | already wrong | mean ‖δ‖ | mean loss after |',
      '|---:|---:|---:|---:|---:|---:|',
    );
    for (const e of a.results) {
      out.push(
        `| ${num(e.epsilon)} | ${ratioText(e.robustAccuracy)} | ${ratioText(e.successRate)} | ${e.alreadyWrong} | ${num(e.meanPerturbation)} | ${num(e.meanLossAfter)} |`,
      );
    }
    out.push('');
  }
  if (r.minimalEpsilon.length > 0) {
    out.push('## Minimal ε per example', '');
    out.push(
      '| attack | flipped | never flipped (≤ εmax) | median minimal ε | εmax | bisection steps |',
    );
    out.push('|---|---:|---:|---:|---:|---:|');
    for (const m of r.minimalEpsilon) {
      out.push(
        `| ${m.attack} | ${m.flipped} | ${m.neverFlipped} | ${m.median === null ? 'n/a' : num(m.median)} | ${num(m.epsMax)} | ${m.bisectionSteps} |`,
      );
    }
    out.push('');
  }
  out.push('## Warnings', '');
  if (r.warnings.length === 0) out.push('None.');
  for (const w of r.warnings) out.push(`- **${w.severity} ${w.code}**: ${markdownText(w.message)}`);
  out.push('');
  const dg = r.diagnostics;
  if (dg) {
    out.push('## Diagnostics', '');
    out.push(
      `- zero input-gradient coordinates: ${pct(dg.zeroGradientFraction)} (${dg.zeroGradientExamples} examples with an all-zero gradient)`,
      `- sanity: ${dg.sanity.budgetViolations} budget violations, ${dg.sanity.boundsViolations} bounds violations`,
    );
    for (const f of dg.firstOrder) {
      out.push(
        `- FGSM at ε = ${num(f.epsilon)}: linear prediction +${num(f.predictedGain)} loss, actual +${num(f.actualGain)}`,
      );
    }
    for (const z of dg.noise) {
      out.push(
        `- random noise at ε = ${num(z.epsilon)}: success ${ratioText(z.noiseSuccess)}` +
          (z.fgsmSuccess ? ` vs FGSM ${ratioText(z.fgsmSuccess)}` : ''),
      );
    }
    for (const b of dg.blackBoxVsWhiteBox ?? []) {
      out.push(
        `- at ε = ${num(b.epsilon)}, of the ${b.whiteBoxRobust} clean-correct examples no gradient attack flipped: ${b.blackBoxOnly} flipped by a black-box attack, ${b.noiseOnly} by random noise`,
      );
    }
    if (dg.repeatability) {
      out.push(
        `- the same input twice: ${dg.repeatability.differing} examples with different logits (largest relative difference ${num(dg.repeatability.maxDifference)})`,
      );
    }
    out.push('');
  }
  out.push('## Reporting checklist', '', '| field | value |', '|---|---|');
  for (const c of r.checklist) out.push(`| ${cell(c.field)} | ${cell(c.value)} |`);
  out.push('');
  return out.join('\n');
}
