/** Data sets and image I/O (Node: reads and writes files). */
export {
  type Batch,
  batches,
  type Dataset,
  datasetTensor4D,
  sliceDataset,
  toTensor4D,
} from './dataset.js';
export { decodePhotoFile, decodePng } from './decode-node.js';
export { type FolderDataset, type ImageFolderOptions, loadImageFolder } from './folder.js';
export { loadMnist, type MnistOptions, mnistDataDir } from './mnist.js';
export * from './photos.js';
export { encodePng, encodeRgbaPng, writePng } from './png.js';
export { fromBounds, toRgba } from './rgba.js';
