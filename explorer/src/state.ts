/** The page's state and the status line, error box and staleness marks. */
import type { Classifier } from 'advkit';
import type { Analysis } from './analysis.js';
import type { Curve } from './curve.js';
import type { Photo, Samples } from './inputs.js';
import type { LoadedNetwork } from './models.js';
import { $ } from './render.js';

export const state: {
  samples?: Samples;
  loaded?: LoadedNetwork;
  model?: Classifier;
  /** The uploaded photo, and the committed photo picked, at their own sizes. */
  uploaded?: Photo;
  photo?: Photo;
  analysis?: Analysis;
  curve?: Curve;
  running: boolean;
  pending: boolean;
  runs: number;
} = { running: false, pending: false, runs: 0 };

export const status = $('status');
export function setStatus(s: 'busy' | 'ready' | 'error' | 'starting', text: string): void {
  status.dataset.state = s;
  status.textContent = text;
  document.body.dataset.state = s;
}

export function showError(msg: string | undefined): void {
  const box = $('model-error');
  box.hidden = !msg;
  box.textContent = msg ?? '';
}

/** Grey out results that no longer match the model or input on screen. */
export function markStale(stale: boolean): void {
  $('view').dataset.stale = String(stale);
  for (const id of ['download-png', 'download-json']) ($(id) as HTMLButtonElement).disabled = stale;
}

export function clearCurve(): void {
  state.curve = undefined;
  $('curve-chart').replaceChildren();
  $('curve-chart').dataset.state = 'empty';
  $('curve-table').replaceChildren();
}
