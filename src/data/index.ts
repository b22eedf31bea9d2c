/** Data sets and image I/O (Node: reads and writes files). */
export { type Dataset, sliceDataset } from './dataset.js';
export { type ImageFolderOptions, loadImageFolder } from './image-folder.js';
export { loadMnist, type MnistOptions } from './mnist.js';
export { encodePng, encodeRgbaPng, writePng } from './png.js';
export { fromBounds, toRgba } from './rgba.js';
