// The README's library example, run by the test suite exactly as written.
import * as tf from '@tensorflow/tfjs';
import {
  evaluate,
  FGSM,
  loadClassifierFromFile,
  loadMnist,
  setBackend,
  toMarkdown,
} from 'advkit/node';

await setBackend(); // wasm in Node
const { model, checksum } = await loadClassifierFromFile('models/mnist-cnn/model.json'); // pixels in [0, 1]
const data = loadMnist('test', { limit: 100 });
const x = tf.tensor4d(data.images, [100, 28, 28, 1]);

// One attack, several ε: one result per ε, per-example success, prediction, loss.
const results = await new FGSM().run(model, { x, labels: data.labels }, [0.1, 0.2]);
for (const r of results) {
  console.log(`FGSM ε=${r.epsilon}: ${r.success.filter(Boolean).length}/100 fooled`);
  r.xAdv.dispose(); // adversarial images are tensors you own
}
x.dispose();

// A whole evaluation: FGSM then PGD, both denominators, diagnostics, report.
const report = await evaluate(
  model,
  data,
  { attacks: [{ name: 'fgsm' }, { name: 'pgd', options: { steps: 10 } }], epsilons: [0.1, 0.3] },
  { modelChecksum: checksum, minimalEpsilon: false },
);
console.log(toMarkdown(report));
