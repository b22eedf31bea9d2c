/**
 * The demo's real-photo part: nsfwjs's MobileNetV2 (a trained classifier
 * shipped in an npm package, models/nsfw-mobilenet) on the public-domain
 * photos in examples/photos, prepared as torchvision's Resize(256) +
 * CenterCrop(224), under FGSM at a few ε; the evaluation report, and the
 * classic FGSM picture (photo, perturbation, adversarial photo, top-5 before
 * and after) at DEMO_PHOTO_EPSILON as HTML, Markdown (with PNGs) and JSON.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FGSM } from '../../attacks/index.js';
import { checkLabelCount, encodeRgbaPng, loadImageFolder, parseLabels } from '../../data/index.js';
import { evaluate } from '../../eval/index.js';
import type { EvaluationReport } from '../../eval/types.js';
import { writeFileSetAtomic } from '../../files/atomic.js';
import type { Classifier } from '../../model/classifier.js';
import { loadClassifierFromFile } from '../../model/load-node.js';
import {
  type FgsmPicture,
  fgsmPictureHtml,
  fgsmPictureJson,
  fgsmPictureMarkdown,
  type PicturePhoto,
  pictureImages,
  topK,
} from '../../report/fgsm-picture.js';
import { reportFiles } from '../summary.js';

/** ε of the FGSM picture: 4/255, visible when amplified, invisible in the photo; it changes 3 of the 4 predictions (measured). */
export const DEMO_PHOTO_EPSILON = 4 / 255;
export const DEMO_PHOTO_EPSILONS = [1 / 255, 2 / 255, 4 / 255, 8 / 255];

export interface PhotoDemoPaths {
  model: string;
  photos: string;
}

export function photoDemoPaths(root: string): PhotoDemoPaths | undefined {
  const p = {
    model: path.join(root, 'models', 'nsfw-mobilenet'),
    photos: path.join(root, 'examples', 'photos'),
  };
  return existsSync(path.join(p.model, 'model.json')) &&
    existsSync(path.join(p.model, 'labels.txt')) &&
    existsSync(path.join(p.photos, 'nsfw-labels.csv'))
    ? p
    : undefined;
}

const MODEL_NOTE =
  "nsfwjs 4.4.0's MobileNetV2 (MIT, Infinite Red), a trained classifier shipped in the npm package: five classes (Drawing, Hentai, Neutral, Porn, Sexy), 224×224 RGB in [0, 1]. No ImageNet classifier on npm ships its weights (see models/nsfw-mobilenet/README.md).";

/** Probabilities [n, k] of `x`, for the top-5 lists. */
function probabilities(model: Classifier, x: tf.Tensor4D): Promise<number[][]> {
  const p = tf.tidy(() => tf.softmax(model.logits(x)));
  return p.array().finally(() => p.dispose()) as Promise<number[][]>;
}

/** The FGSM picture's data: one FGSM run at `epsilon`, top 5 before and after. */
export async function fgsmPicture(
  model: Classifier,
  x: tf.Tensor4D,
  labels: Int32Array,
  meta: Omit<FgsmPicture, 'photos' | 'epsilon' | 'bounds' | 'shape'> & {
    epsilon: number;
    names: string[];
    sizes: string[];
    classNames: string[];
  },
): Promise<FgsmPicture> {
  const [result] = await new FGSM().run(model, { x, labels }, [meta.epsilon]);
  try {
    const [before, after] = [
      await probabilities(model, x),
      await probabilities(model, result.xAdv),
    ];
    const original = await x.data();
    const adversarial = await result.xAdv.data();
    const d = x.shape[1] * x.shape[2] * x.shape[3];
    const photos: PicturePhoto[] = meta.names.map((name, i) => ({
      name,
      size: meta.sizes[i],
      label: labels[i],
      original: original.subarray(i * d, (i + 1) * d),
      adversarial: adversarial.subarray(i * d, (i + 1) * d),
      before: topK(before[i], 5, meta.classNames),
      after: topK(after[i], 5, meta.classNames),
    }));
    const { names: _n, sizes: _s, classNames: _c, ...rest } = meta;
    return {
      ...rest,
      bounds: [...model.bounds] as [number, number],
      shape: [x.shape[1], x.shape[2], x.shape[3]],
      photos,
    };
  } finally {
    result.xAdv.dispose();
  }
}

/** The picture's files: HTML, Markdown beside one PNG per image, JSON. */
export function pictureFiles(p: FgsmPicture): Record<string, string | Uint8Array> {
  const files: Record<string, string | Uint8Array> = {};
  const stem = (name: string) => name.replace(/\.[^.]+$/, '');
  const images = p.photos.map((photo) => pictureImages(p, photo, encodeRgbaPng));
  p.photos.forEach((photo, i) => {
    files[`${stem(photo.name)}-photo.png`] = images[i].original;
    files[`${stem(photo.name)}-perturbation.png`] = images[i].perturbation;
    files[`${stem(photo.name)}-adversarial.png`] = images[i].adversarial;
  });
  files['fgsm-picture.html'] = fgsmPictureHtml(p, { images });
  files['fgsm-picture.md'] = fgsmPictureMarkdown(p, (name) =>
    ['photo', 'perturbation', 'adversarial'].map((k) => `${stem(name)}-${k}.png`),
  );
  files['fgsm-picture.json'] = fgsmPictureJson(p);
  return files;
}

/** Run the photo part; the report goes to `out/photos`, the picture to `out/photos-fgsm`. */
export async function runPhotoDemo(
  paths: PhotoDemoPaths,
  out: string,
  options: { seed?: number } = {},
): Promise<{ report: EvaluationReport; picture: FgsmPicture; files: string[] }> {
  const labelsFile = path.join(paths.model, 'labels.txt');
  const labels = parseLabels(readFileSync(labelsFile, 'utf8'), labelsFile);
  const classNames = labels.names;
  const { model, checksum } = await loadClassifierFromFile(path.join(paths.model, 'model.json'), {
    name: 'nsfw-mobilenet (nsfwjs 4.4.0 MobileNetV2)',
  });
  try {
    checkLabelCount(labels, model.numClasses, labelsFile);
    const ds = await loadImageFolder(paths.photos, {
      shape: model.inputShape,
      bounds: model.bounds,
      labels: { csv: path.join(paths.photos, 'nsfw-labels.csv') },
      classNames,
      numClasses: model.numClasses,
      resize: 256,
      crop: 224,
    });
    const data = {
      ...ds,
      notes: `${ds.notes}; public-domain and CC0 photos from scikit-image (examples/photos/LICENSES.md), each labelled Neutral`,
    };
    const report = await evaluate(
      model,
      data,
      { attacks: [{ name: 'fgsm' }], epsilons: DEMO_PHOTO_EPSILONS },
      { seed: options.seed ?? 0, modelChecksum: checksum, minimalEpsilon: false },
    );
    const names = ds.files.map((f) => path.basename(f));
    const sizes = (ds.sizes ?? []).map(([w, h]) => `${w}×${h}`);
    const x = tf.tensor4d(ds.images, [ds.labels.length, ...ds.shape]);
    let picture: FgsmPicture;
    try {
      picture = await fgsmPicture(model, x, ds.labels, {
        title: 'FGSM on real photos: nsfwjs MobileNetV2',
        model: model.info.name,
        modelNote: MODEL_NOTE,
        dataNote: `${ds.labels.length} photos from scikit-image's sample data (public domain / CC0, examples/photos/LICENSES.md), each Resize(256) then CenterCrop(224) as torchvision does, labelled Neutral.`,
        epsilon: DEMO_PHOTO_EPSILON,
        epsilonText: '4/255',
        names,
        sizes,
        classNames,
      });
    } finally {
      x.dispose();
    }
    const files = [
      ...(await reportFiles(path.join(out, 'photos'), report)),
      ...(await writeFileSetAtomic(path.join(out, 'photos-fgsm'), pictureFiles(picture))),
    ];
    return { report, picture, files };
  } finally {
    model.dispose();
  }
}

/** Lines for the terminal: each photo's top class before and after. */
export function photoLines(p: FgsmPicture): string[] {
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  return [
    `== real photos: ${p.model}, FGSM at ε = ${p.epsilonText}`,
    ...p.photos.map((ph) => {
      const b = ph.before[0];
      const a = ph.after[0];
      return `${ph.name.padEnd(14)} ${b.name} ${pct(b.probability)} → ${a.name} ${pct(a.probability)}${a.label !== b.label ? '  (changed)' : ''}`;
    }),
  ];
}
