/**
 * Batches run by an executor, several at a time, merged in order: a work
 * queue hands the next batch to whichever slot is free; finished batches
 * wait until every earlier one is merged, so the run state after each merge
 * is exactly the state a one-by-one run has after that batch (and so is the
 * checkpoint saved then).
 */
import type { BatchColumns } from './state.js';
import type { BatchJob, BatchRunner, EvaluatePhase } from './types.js';

export interface InOrderRun {
  runner: BatchRunner;
  /** First batch to run (batches before it are merged already). */
  first: number;
  /** Batches in all. */
  batches: number;
  job(batch: number): BatchJob;
  /** A phase of some batch started; `merged` batches are merged so far. May throw to stop the run. */
  onPhase(phase: EvaluatePhase, merged: number, attack?: string): void;
  /** Merge batch `batch`, the next in order (and checkpoint). */
  merge(batch: number, columns: BatchColumns): Promise<void>;
}

export async function runInOrder(r: InOrderRun): Promise<void> {
  let next = r.first;
  let merged = r.first;
  let inFlight = 0;
  const finished = new Map<number, BatchColumns>();
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (error: unknown) => {
    failure = failure ?? { error };
    signal();
  };

  // Every batch's promise gets both handlers here, so a batch that fails
  // after the run has already stopped is never an unhandled rejection.
  const runOne = async (b: number): Promise<BatchColumns> =>
    r.runner.run(r.job(b), (phase, attack) => {
      if (failure !== undefined) return;
      try {
        r.onPhase(phase, merged, attack);
      } catch (e) {
        fail(e);
      }
    });
  const dispatch = () => {
    while (failure === undefined && inFlight < r.runner.concurrency && next < r.batches) {
      const b = next++;
      inFlight++;
      runOne(b).then(
        (columns) => {
          inFlight--;
          finished.set(b, columns);
          dispatch();
          signal();
        },
        (e: unknown) => {
          inFlight--;
          fail(e);
        },
      );
    }
  };

  try {
    dispatch();
    while (merged < r.batches) {
      if (failure !== undefined) throw failure.error;
      const columns = finished.get(merged);
      if (columns === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      finished.delete(merged);
      await r.merge(merged, columns);
      merged++;
    }
  } catch (e) {
    fail(e); // no new batches start once the run has failed
    throw e;
  }
}
