import type { CheckpointStore } from './types.js';

/** A checkpoint held in memory: for tests, or a browser tab that wants resume within a session. */
export function memoryCheckpoint(initial?: string): CheckpointStore & { text: string | undefined } {
  const store = {
    location: 'memory',
    text: initial,
    async load() {
      return store.text;
    },
    async save(text: string) {
      store.text = text;
    },
  };
  return store;
}
