/**
 * advkit for Node: everything in the browser-safe entry, plus what reads and
 * writes files — model files, MNIST and image folders, PNGs, report files,
 * resumable checkpoints and training runs, and evaluation on worker threads.
 */
export * from './data/index.js';
export { fileCheckpoint } from './eval/checkpoint-node.js';
export { partFilesIn, readParts, writePart } from './eval/parts-node.js';
export { type WorkerThreadsExecutor, workerThreads } from './eval/workers-node.js';
export { writeFileAtomic } from './files/atomic.js';
export * from './index.js';
export {
  checksumModelFiles,
  fileLoadHandler,
  fileSaveHandler,
  type ModelFormat,
  modelFormat,
} from './model/io-node.js';
export { loadClassifierFromFile, type ModelFileOptions } from './model/load-node.js';
export { REPORT_FORMATS, writeReport } from './report/write-node.js';
export { fileCheckpointStore } from './train/checkpoint-node.js';
export { saveModelFiles, type TrainRunOptions, trainRun } from './train/run-node.js';
