/**
 * `advkit merge PARTS... --out DIR`: the part files of a sharded `advkit
 * eval` → one `mergeParts` call → the report an unsharded run writes. The
 * model and suite are rebuilt from the eval flags kept in the parts (the
 * model from its recorded path, or --model); the hashes in every part must
 * match them.
 */
import { mergeParts } from '../../eval/merge.js';
import { readParts } from '../../eval/parts-node.js';
import type { EvaluationReport } from '../../eval/types.js';
import { loadClassifierFromFile } from '../../model/load-node.js';
import { prepareOutDir } from '../checks.js';
import { defineCommand, note, print } from '../command.js';
import { text, toggle, UsageError, value } from '../flags.js';
import { modelOptions, runFlags, startBackend } from '../options.js';
import type { EvalInvocation } from '../shard.js';
import { gate, reportFiles, summaryJson, summaryLines } from '../summary.js';
import { evalSuite, fraction } from './eval.js';

const flags = {
  out: value('DIR', text, 'report folder', { required: true }),
  model: value('PATH', text, 'the model.json, when it has moved since the shards ran', {
    defaultText: 'the path the shards recorded',
  }),
  'fail-under': value(
    'ACC',
    fraction,
    'exit 1 if the lowest robust accuracy at the largest ε is below ACC',
  ),
  json: toggle('print machine-readable results on stdout'),
  ...runFlags,
};

export const mergeCommand = defineCommand({
  name: 'merge',
  summary: 'join the part files of a sharded eval into one report',
  usage: 'PART... --out DIR',
  positionals: 'PART...',
  description: [
    'Reads the part files that `advkit eval --shard I/N` (or a Slurm array task, or a',
    'Kubernetes Indexed Job with --shard-count) wrote; a folder stands for every part-*.json',
    'in it. Checks that every part was run on the same model, data and plan (hashes) and that',
    'their batch ranges cover the data exactly once — a missing, overlapping or foreign part',
    'is an error naming it — then writes report.json, report.md and report.html to --out:',
    'the report an unsharded run writes, except the timings (durationMs is the sum of the',
    "shards' times). The model is loaded from the path the shards recorded (or --model) and",
    'must have their checksum.',
  ].join('\n'),
  examples: [
    'advkit merge runs/s --out runs/s',
    'advkit merge runs/s/part-*.json --out runs/s-report --fail-under 0.8',
    'advkit merge parts/ --out report/ --model /models/mnist-cnn/model.json',
  ],
  flags,
  async run(o, args) {
    if (args.length === 0) {
      throw new UsageError(
        'give the part files (or their folder) to merge, e.g. advkit merge runs/s --out runs/s',
      );
    }
    await prepareOutDir(o.out);
    const parts = await readParts(args);
    const recorded = parts.find((p) => isEvalInvocation(p.part.invocation));
    if (!recorded || !isEvalInvocation(recorded.part.invocation)) {
      throw new UsageError(
        `none of the ${parts.length} parts was written by advkit eval --shard (no eval flags recorded in ${parts[0].location}); merge parts made with the library by mergeParts()`,
      );
    }
    const { flags: f, modelName } = recorded.part.invocation;
    await startBackend(o.backend, o.threads);
    const { model, checksum } = await loadClassifierFromFile(o.model ?? f.model, {
      ...modelOptions(f),
      name: modelName,
    });
    let report: EvaluationReport;
    try {
      report = await mergeParts(model, evalSuite(f), parts, {
        batchSize: f['batch-size'],
        seed: f.seed,
        modelChecksum: checksum,
        minimalEpsilon: f['no-minimal-eps'] ? false : undefined,
      });
    } finally {
      model.dispose();
    }
    note(o.quiet || o.json, `advkit: merged ${parts.length} parts`);
    const files = await reportFiles(o.out, report);
    const verdict = o['fail-under'] === undefined ? undefined : gate(report, o['fail-under']);
    if (o.json) {
      print(JSON.stringify({ ...summaryJson(report, o.out, files, verdict), parts: parts.length }));
    } else {
      print(...summaryLines(report), '', `report: ${files.join(', ')}`);
    }
    if (verdict) {
      note(false, `advkit: ${verdict.message}`);
      return verdict.pass ? 0 : 1;
    }
    return 0;
  },
});

function isEvalInvocation(v: unknown): v is EvalInvocation {
  const i = v as EvalInvocation | undefined;
  return (
    i?.command === 'eval' &&
    typeof i.flags === 'object' &&
    typeof i.flags?.model === 'string' &&
    typeof i.modelName === 'string'
  );
}
