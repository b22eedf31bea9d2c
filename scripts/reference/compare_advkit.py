"""Example by example: advkit's evaluation report against the reference AutoAttack run.

  /usr/bin/python3 scripts/reference/compare_advkit.py ADVKIT_REPORT.json REFERENCE.json [--eps 0.3]

ADVKIT_REPORT.json is advkit's report (`advkit eval ... --out DIR` writes
DIR/report.json; the library's evaluate() returns the same object).
REFERENCE.json is what run_autoattack.py wrote.

- When the report has a cascade (`--attacks autoattack`), its per-example
  `brokenBy` is compared with the reference suite's `broken_by`: per stage, the
  examples both broke at that stage, only the reference, only advkit; then
  overall (broken by any stage).
- Otherwise (advkit's attacks run alone, e.g. `--attacks apgd,apgd-t,fab-t,square`)
  each attack report whose name matches a reference attack run alone
  (`--mode individual`) is compared on its per-example `success` over the
  clean-correct examples.
Examples are matched by their position in the MNIST test set; only positions
present in both files count.
"""

import argparse
import json
import sys

# advkit's attack keys -> the reference's names.
NAMES = {'apgd': 'apgd-ce', 'apgd-ce': 'apgd-ce', 'apgd-t': 'apgd-t', 'fab-t': 'fab-t', 'square': 'square'}


def fail(msg):
    print(f'compare_advkit: {msg}', file=sys.stderr)
    sys.exit(2)


def pick_eps(items, eps, what):
    if eps is None:
        if len(items) != 1:
            fail(f'{what} has {len(items)} epsilons ({[i["epsilon"] for i in items]}); choose one with --eps')
        return items[0]
    for it in items:
        if abs(it['epsilon'] - eps) < 1e-9:
            return it
    fail(f'{what} has no epsilon {eps}; it has {[i["epsilon"] for i in items]}')


def row(name, both, ref_only, adv_only, denom):
    return f'  {name:10s} both {both:5d}   only reference {ref_only:5d}   only advkit {adv_only:5d}   (of {denom})'


def compare_cascade(report, ref, eps):
    cascade = report['cascade']
    per = pick_eps(cascade['perEpsilon'], eps, 'the advkit cascade')
    ref_broken = ref['suite']['broken_by']
    adv = {}
    for pos, b in zip(cascade['indices'], per['brokenBy']):
        if pos < len(ref_broken):
            adv[pos] = None if b is None else ('clean' if b == 'clean' else NAMES.get(b.split(' (')[0], b))
    common = sorted(adv)
    if not common:
        fail('the advkit cascade and the reference share no example positions')
    clean_diff = [i for i in common if (adv[i] == 'clean') != (ref_broken[i] == 'clean')]
    print(f'cascade at eps {per["epsilon"]}: {len(common)} common examples, stages {cascade["stages"]}')
    if clean_diff:
        print(f'  clean predictions differ on {len(clean_diff)} examples: {clean_diff[:20]} (the two models are not the same?)')
    print(f'  robust accuracy: advkit {sum(adv[i] is None for i in common) / len(common):.4f}, '
          f'reference {sum(ref_broken[i] is None for i in common) / len(common):.4f}')
    print('  broken at this stage:')
    for stage in ref['suite']['stages']:
        both = sum(adv[i] == stage and ref_broken[i] == stage for i in common)
        r = sum(ref_broken[i] == stage and adv[i] != stage for i in common)
        a = sum(adv[i] == stage and ref_broken[i] != stage for i in common)
        print(row(stage, both, r, a, len(common)))
    attacked = [i for i in common if adv[i] != 'clean' and ref_broken[i] != 'clean']
    both = sum(adv[i] is not None and ref_broken[i] is not None for i in attacked)
    r = sum(ref_broken[i] is not None and adv[i] is None for i in attacked)
    a = sum(adv[i] is not None and ref_broken[i] is None for i in attacked)
    print('  broken by any stage (clean-correct in both):')
    print(row('overall', both, r, a, len(attacked)))
    only_ref = [i for i in attacked if ref_broken[i] is not None and adv[i] is None]
    if only_ref:
        print(f'  robust for advkit, broken by the reference: {only_ref[:30]}' + (' ...' if len(only_ref) > 30 else ''))
    only_adv = [i for i in attacked if adv[i] is not None and ref_broken[i] is None]
    if only_adv:
        print(f'  broken by advkit, robust for the reference: {only_adv[:30]}' + (' ...' if len(only_adv) > 30 else ''))


def compare_individual(report, ref, eps):
    indiv = ref.get('individual')
    if not indiv:
        return
    clean = ref['clean_correct']
    for att in report.get('attacks', []):
        name = NAMES.get(att['name'].split(' (')[0])
        if name not in indiv:
            continue
        res = pick_eps(att['results'], eps, f'advkit attack {att["name"]}')
        ref_b = indiv[name]['broken']
        pairs = [(ex['index'], ex['success'], ref_b[ex['index']]) for ex in res['examples']
                 if ex['index'] < len(ref_b) and clean[ex['index']] and ex['cleanPrediction'] == ex['label']]
        if not pairs:
            continue
        both = sum(a and r for _, a, r in pairs)
        only_ref = [i for i, a, r in pairs if r and not a]
        only_adv = [i for i, a, r in pairs if a and not r]
        print(f'{att["name"]} vs reference {name} alone, eps {res["epsilon"]}:')
        print(row(name, both, len(only_ref), len(only_adv), len(pairs)))
        if only_ref:
            print(f'    only reference: {only_ref[:30]}')
        if only_adv:
            print(f'    only advkit: {only_adv[:30]}')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('advkit_report')
    p.add_argument('reference')
    p.add_argument('--eps', type=float, help='the epsilon to compare when the report has several')
    args = p.parse_args()
    with open(args.advkit_report) as f:
        report = json.load(f)
    with open(args.reference) as f:
        ref = json.load(f)
    if args.eps is not None and abs(args.eps - ref['epsilon']) > 1e-9:
        fail(f'the reference ran at eps {ref["epsilon"]}, not {args.eps}')
    eps = args.eps if args.eps is not None else ref['epsilon']
    if report.get('cascade'):
        if 'suite' not in ref:
            fail('the advkit report is a cascade but the reference file has no suite (run it with --mode suite or both)')
        # A cascade's per-attack records carry the earlier stages' successes, so they
        # are not single-attack results: only the stage-by-stage comparison applies.
        compare_cascade(report, ref, eps)
    else:
        compare_individual(report, ref, eps)


if __name__ == '__main__':
    main()
