/**
 * Seconds per attack of an evaluation, from its progress events: each phase
 * lasts until the next one starts (a cascade's stages, batch after batch).
 * Shared by scripts/repro-autoattack.ts and bench/autoattack.ts.
 */
import type { ProgressEvent } from '../src/eval/types.js';

export function stageTimer(): {
  onProgress: (e: ProgressEvent) => void;
  /** Seconds by attack key; 'clean' and 'diagnostics' for those phases. */
  seconds: Map<string, number>;
} {
  const seconds = new Map<string, number>();
  let current: string | undefined;
  let since = performance.now();
  return {
    seconds,
    onProgress: (e) => {
      const now = performance.now();
      if (current) seconds.set(current, (seconds.get(current) ?? 0) + (now - since) / 1000);
      current = e.phase === 'attack' ? e.attack : e.phase;
      since = now;
    },
  };
}
