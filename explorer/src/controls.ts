/** Reading the controls: ε and its scale per norm, the attack settings, which rows show. */
import { getNorm } from 'advkit';
import { $, fmt } from './render.js';
import { ATTACK_PARAMS, type AttackSettings, type ExplorerAttack } from './settings.js';
import { state } from './state.js';

export type Input = HTMLInputElement;
export type Select = HTMLSelectElement;

export const num = (id: string): number => Number(($(id) as Input).value);
export const val = (id: string): string => ($(id) as Input | Select).value;

/* ---------- ε scale per norm ---------- */

export const EPS_SCALE = {
  linf: { max: 0.5, start: 0.1, curve: 0.3 },
  l2: { max: 8, start: 1.5, curve: 4 },
  l1: { max: 40, start: 10, curve: 20 },
} as const;

export function range(): number {
  return state.model
    ? state.model.bounds[1] - state.model.bounds[0]
    : num('bounds-hi') - num('bounds-lo');
}

export function epsMax(): number {
  return EPS_SCALE[val('norm') as keyof typeof EPS_SCALE].max * range();
}

export function syncEpsFromSlider(): void {
  const eps = (num('eps-range') / 200) * epsMax();
  ($('eps') as Input).value = String(+eps.toPrecision(4));
  describeEps();
}

export function syncSliderFromEps(): void {
  ($('eps-range') as Input).value = String(Math.round((200 * num('eps')) / epsMax()));
  describeEps();
}

export function describeEps(): void {
  const eps = num('eps');
  const r = range();
  $('eps-note').textContent =
    `ε = ${fmt(eps)} in pixel units = ${fmt((eps / r) * 255, 3)}/255 of the range [${state.model?.bounds.join(', ') ?? '0, 1'}], ${getNorm(val('norm')).label} ball`;
}

export function resetEpsForNorm(): void {
  const s = EPS_SCALE[val('norm') as keyof typeof EPS_SCALE];
  ($('eps') as Input).value = String(+(s.start * range()).toPrecision(4));
  ($('curve-max') as Input).value = String(+(s.curve * range()).toPrecision(4));
  syncSliderFromEps();
}

/* ---------- controls ---------- */

export function settings(): AttackSettings {
  return {
    attack: val('attack') as ExplorerAttack,
    norm: val('norm') as AttackSettings['norm'],
    eps: Math.max(0, num('eps') || 0),
    goal: val('goal') as AttackSettings['goal'],
    targetRule: val('target-rule') as AttackSettings['targetRule'],
    targetClass: num('target-class'),
    steps: Math.max(1, Math.round(num('steps')) || 1),
    relStep: num('rel-step') > 0 ? num('rel-step') : 0.25,
    restarts: Math.max(1, Math.round(num('restarts')) || 1),
    decay: Math.max(0, num('decay') || 0),
    queries: Math.max(1, Math.round(num('queries')) || 1),
    seed: Math.max(0, Math.round(num('seed')) || 0),
  };
}

export function showAttackRows(resetStep: boolean): void {
  const p = ATTACK_PARAMS[val('attack') as ExplorerAttack];
  $('iter-row').hidden = !p.steps && p.relStep === undefined;
  $('steps').hidden = !p.steps;
  document.querySelector<HTMLElement>('label[for=steps]')!.hidden = !p.steps;
  $('rel-step').hidden = p.relStep === undefined;
  document.querySelector<HTMLElement>('label[for=rel-step]')!.hidden = p.relStep === undefined;
  $('square-row').hidden = !p.queries;
  $('pgd-row').hidden = !p.restarts;
  $('mi-row').hidden = !p.decay;
  $('target-row').hidden = val('goal') !== 'targeted';
  $('target-class').hidden = val('target-rule') !== 'fixed';
  document.querySelector<HTMLElement>('label[for=target-class]')!.hidden =
    val('target-rule') !== 'fixed';
  if (resetStep && p.relStep !== undefined) ($('rel-step') as Input).value = String(p.relStep);
}

export function showInputRows(): void {
  const kind = val('input-kind');
  $('input-sample').hidden = kind !== 'sample';
  $('input-draw').hidden = kind !== 'draw';
  $('input-upload').hidden = kind !== 'upload';
  $('input-photo').hidden = kind !== 'photo';
  $('input-fit').hidden = kind !== 'upload' && kind !== 'photo';
}

export function parseList(id: string): number[] | undefined {
  const t = val(id).trim();
  if (!t) return undefined;
  return t.split(/[\s,]+/).map(Number);
}
