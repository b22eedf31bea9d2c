/** Shared number and ratio formatting for the text renderers. */
import type { Ratio } from '../eval/types.js';

export function pct(v: number | null): string {
  return v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`;
}

/** "5/10 (50.0%)" — a metric always shown with its denominator. */
export function ratioText(r: Ratio): string {
  return `${r.numerator}/${r.denominator} (${pct(r.value)})`;
}

export function num(v: number, digits = 4): string {
  return Number.isInteger(v) ? String(v) : String(+v.toPrecision(digits));
}

export function optionsText(options: Record<string, number | string | boolean>): string {
  return Object.entries(options)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}
