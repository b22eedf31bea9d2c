/** Photos in memory (browser-safe): decoding JPEGs, torchvision's resize and crop, labels files. */
export {
  applyPhotoTransform,
  centerCrop,
  checkPhotoTransform,
  describePhotoTransform,
  type PhotoSize,
  type PhotoTransform,
  photoTransformSize,
} from './crop.js';
export { checkImage8, dropAlpha, type Image8, toChannels, toPixels } from './image.js';
export {
  applyOrientation,
  type DecodedPhoto,
  decodeJpeg,
  exifOrientation,
  isJpeg,
} from './jpeg.js';
export { type ClassLabels, checkLabelCount, parseLabels } from './labels.js';
export { resizeBilinear, shorterSideSize } from './resize.js';
