/**
 * Report rendering: JSON (versioned, stable key order), Markdown for pull
 * requests, and self-contained HTML with SVG plots and image grids.
 * Browser-safe; `write-node.ts` writes the files in Node.
 */
export {
  type ClassScore,
  type FgsmPicture,
  fgsmPictureHtml,
  fgsmPictureJson,
  fgsmPictureMarkdown,
  type PictureImages,
  type PicturePhoto,
  pictureImages,
  topK,
} from './fgsm-picture.js';
export { escapeHtml, type HtmlOptions, toHtml } from './html.js';
export { type RenderedGrid, renderGrid } from './images.js';
export { fromJson, toJson } from './json.js';
export { toMarkdown } from './markdown.js';
export { accuracyCurveSpec, minimalEpsilonSpec, renderSvg } from './plots.js';
export { encodePngStored, type PngEncoder, pngDataUri } from './png.js';
export { epsilonFraction, type RobustBenchSummary, robustBenchSummary } from './robustbench.js';
