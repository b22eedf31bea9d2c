"""The authors' AutoAttack (fra31/auto-attack, PyTorch) on advkit's shipped weights.

A side-by-side yardstick for advkit's own APGD-CE / APGD-T / FAB-T / Square and
its AutoAttack-style suite: same weights (ported exactly by tfjs_model.py and
checked against advkit's TF.js logits before anything runs), same images, same
threat model (L-inf, eps 0.3 by default, pixels in [0, 1]).

  node --import tsx scripts/reference/export-data.ts --n 1000   # images, labels, TF.js logits -> /tmp/advkit-reference
  nice -n 10 /usr/bin/python3 scripts/reference/run_autoattack.py --n 100 [--mode both] [--out FILE]

What runs (--mode):
  suite       the reference's standard version (APGD-CE, APGD-T with 9 targets,
              FAB-T with 9 targets, Square with 5000 queries, one restart each,
              seed fixed), each attack on the examples still robust; robust
              accuracy after each stage and, per example, the stage that broke it.
              The stages are the reference's own run_standard_evaluation called
              once per stage on the examples still robust (the reference loop
              does exactly this, in the same batches and with each attack
              reseeded per call, so the result is the one-call suite's; --check-suite
              runs the one call too and fails if any example differs).
  individual  each of the four attacks alone on every clean-correct example
              (the reference's run_standard_evaluation_individual), for comparing
              single attacks.
  both        suite, then individual (default).

The reference code is not part of advkit (its licence; we run it, we don't ship
it). Point AUTOATTACK_DIR (or --autoattack-dir) at a folder holding the
`autoattack` package; default /tmp/auto-attack. See scripts/reference/README.md.
"""

import argparse
import inspect
import json
import os
import platform
import sys
import time

import numpy as np
import torch

# No __pycache__ beside the committed scripts.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from tfjs_model import load_tfjs_layers_model  # noqa: E402

STAGES = ['apgd-ce', 'apgd-t', 'fab-t', 'square']
REFERENCE_FILES = ['autoattack.py', 'autopgd_base.py', 'fab_base.py', 'fab_pt.py',
                   'fab_projections.py', 'square.py', 'checks.py', 'other_utils.py']


def fail(msg):
    print(f'run_autoattack: {msg}', file=sys.stderr)
    sys.exit(2)


def import_reference(aa_dir):
    pkg = os.path.join(aa_dir, 'autoattack')
    missing = [f for f in REFERENCE_FILES if not os.path.isfile(os.path.join(pkg, f))]
    if missing:
        fail(f"the reference AutoAttack package is not at {pkg} (missing: {', '.join(missing)}).\n"
             "  Obtain it: clone or download https://github.com/fra31/auto-attack and set\n"
             "  AUTOATTACK_DIR=<its folder> (the one holding autoattack/), or pass --autoattack-dir.\n"
             "  scripts/reference/README.md says which files and which commits this harness was run with.")
    sys.path.insert(0, aa_dir)
    import autoattack.autopgd_base as apgd_mod
    # The stored autopgd_base.py predates the `logger` argument that autoattack.py
    # passes; accept it (the attack itself is unchanged; the logger only prints).
    # Patched in place, not subclassed: APGDAttack_targeted calls
    # super(APGDAttack_targeted, self) by its module-level name.
    for cls in (apgd_mod.APGDAttack, apgd_mod.APGDAttack_targeted):
        init = cls.__init__
        if 'logger' not in inspect.signature(init).parameters:
            def patched(self, *args, _init=init, logger=None, **kwargs):
                _init(self, *args, **kwargs)
                self.logger = logger
            cls.__init__ = patched
    from autoattack import AutoAttack
    return AutoAttack


def load_data(data_dir, n):
    paths = {k: os.path.join(data_dir, f) for k, f in
             [('x', 'mnist-test-images.npy'), ('y', 'mnist-test-labels.npy'), ('z', 'tfjs-logits.npy'), ('meta', 'meta.json')]}
    for p in paths.values():
        if not os.path.isfile(p):
            fail(f'{p} is missing: run `node --import tsx scripts/reference/export-data.ts --n {max(n, 1000)} --out {data_dir}` first')
    with open(paths['meta']) as f:
        meta = json.load(f)
    if meta['examples'] < n:
        fail(f"{data_dir} holds {meta['examples']} examples, --n {n} asks for more: re-run export-data.ts with --n {n}")
    x = np.load(paths['x'])[:n]
    y = np.load(paths['y'])[:n]
    z = np.load(paths['z'])[:n]
    # NHWC (advkit, TF.js) -> NCHW (torch, AutoAttack).
    return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(y).long(), z, meta


def check_port(model, x, tfjs_logits, tol):
    with torch.no_grad():
        z = model(x).numpy()
    diff = float(np.abs(z - tfjs_logits).max())
    agree = float((z.argmax(1) == tfjs_logits.argmax(1)).mean())
    if diff > tol or agree < 1:
        fail(f'the torch port does not reproduce advkit\'s logits: max |difference| {diff:.3g} (tolerance {tol}), '
             f'argmax agreement {agree:.4f}; the weights or their layout are wrong')
    return diff


def linf(a, b):
    return (a - b).abs().reshape(a.shape[0], -1).max(1)[0]


def run_suite(AutoAttack, model, x, y, args):
    """Stage by stage, each on the examples still robust; returns the per-example record."""
    aa = AutoAttack(model, norm='Linf', eps=args.eps, seed=args.seed, version='standard',
                    device='cpu', verbose=args.verbose)
    n = x.shape[0]
    with torch.no_grad():
        pred = model(x).argmax(1)
    clean_correct = (pred == y)
    robust = clean_correct.clone()
    broken_by = [None if c else 'clean' for c in clean_correct.tolist()]
    adv_pred = pred.clone()
    dist = torch.zeros(n)
    after = {'clean': robust.sum().item() / n}
    times = {}
    for stage in STAGES:
        idx = torch.nonzero(robust).flatten()
        t0 = time.time()
        if idx.numel() > 0:
            aa.attacks_to_run = [stage]
            x_adv, y_adv = aa.run_standard_evaluation(x[idx], y[idx], bs=args.bs, return_labels=True)
            broke = (y_adv != y[idx])
            d = linf(x_adv, x[idx])
            if (d > args.eps + 1e-5).any() or x_adv.min() < 0 or x_adv.max() > 1:
                fail(f'{stage} returned a point outside the eps-ball or [0, 1] (max L-inf {d.max():.6f})')
            for j in torch.nonzero(broke).flatten().tolist():
                i = idx[j].item()
                broken_by[i] = stage
                robust[i] = False
                adv_pred[i] = y_adv[j]
                dist[i] = d[j]
        times[stage] = time.time() - t0
        after[stage] = robust.sum().item() / n
        print(f'  robust accuracy after {stage:8s} {100 * after[stage]:6.2f} %   '
              f'({idx.numel()} attacked, {times[stage]:.1f} s)', flush=True)
    from autoattack import checks
    checks.check_square_sr(after, logger=aa.logger)
    return {
        'stages': STAGES,
        'robust_accuracy_after': after,
        'seconds': times,
        'broken_by': broken_by,
        'adversarial_prediction': adv_pred.tolist(),
        'linf_distance': [round(v, 6) for v in dist.tolist()],
    }, aa, clean_correct


def check_one_call(AutoAttack, model, x, y, args, suite):
    aa = AutoAttack(model, norm='Linf', eps=args.eps, seed=args.seed, version='standard',
                    device='cpu', verbose=args.verbose)
    _, y_adv = aa.run_standard_evaluation(x, y, bs=args.bs, return_labels=True)
    robust_one = (y_adv == y).tolist()
    robust_staged = [b is None for b in suite['broken_by']]
    differ = [i for i, (a, b) in enumerate(zip(robust_one, robust_staged)) if a != b]
    if differ:
        fail(f'the one-call reference suite and the stage-by-stage run differ on examples {differ[:20]}')
    print(f'  one-call reference suite: the same {sum(robust_one)} robust examples')


def run_individual(AutoAttack, model, x, y, args, clean_correct):
    out = {}
    for stage in STAGES:
        aa = AutoAttack(model, norm='Linf', eps=args.eps, seed=args.seed, version='standard',
                        device='cpu', verbose=args.verbose)
        aa.attacks_to_run = [stage]
        t0 = time.time()
        x_adv, y_adv = aa.run_standard_evaluation(x, y, bs=args.bs, return_labels=True)
        secs = time.time() - t0
        broke = clean_correct & (y_adv != y)
        robust = clean_correct & (y_adv == y)
        out[stage] = {
            'robust_accuracy': robust.sum().item() / x.shape[0],
            'broken': [bool(v) for v in broke.tolist()],
            'adversarial_prediction': y_adv.tolist(),
            'linf_distance': [round(v, 6) for v in linf(x_adv, x).tolist()],
            'seconds': secs,
        }
        print(f'  {stage:8s} alone: robust accuracy {100 * out[stage]["robust_accuracy"]:6.2f} %   '
              f'({int(broke.sum())} of {int(clean_correct.sum())} clean-correct broken, {secs:.1f} s)', flush=True)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=100, help='first N MNIST test images (default 100)')
    p.add_argument('--model', default=os.path.join(ROOT, 'models', 'mnist-robust', 'model.json'))
    p.add_argument('--data', default='/tmp/advkit-reference', help='folder written by export-data.ts')
    p.add_argument('--eps', type=float, default=0.3)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--bs', type=int, default=250, help='batch size of the reference loop (default 250, as upstream)')
    p.add_argument('--mode', choices=['suite', 'individual', 'both'], default='both')
    p.add_argument('--check-suite', action='store_true',
                   help='also run the reference suite in one call and require the same robust examples')
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (default 1: the machine is shared)')
    p.add_argument('--autoattack-dir', default=os.environ.get('AUTOATTACK_DIR', '/tmp/auto-attack'))
    p.add_argument('--tolerance', type=float, default=1e-4, help='max |torch - TF.js| logit difference accepted')
    p.add_argument('--out', help='per-example JSON (default <data>/autoattack-reference-N<n>.json)')
    p.add_argument('--verbose', action='store_true', help="the reference's own log lines")
    args = p.parse_args()
    if args.n < 1:
        fail(f'--n must be at least 1; received {args.n}')
    if not 0 <= args.eps <= 1:
        fail(f'--eps must be in [0, 1] (pixels in [0, 1]); received {args.eps}')
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out_path = args.out or os.path.join(args.data, f'autoattack-reference-N{args.n}.json')

    AutoAttack = import_reference(args.autoattack_dir)
    model, _ = load_tfjs_layers_model(args.model)
    x, y, tfjs_logits, meta = load_data(args.data, args.n)
    if os.path.abspath(meta['model']) != os.path.abspath(args.model) and \
            os.path.abspath(os.path.join(ROOT, meta['model'])) != os.path.abspath(args.model):
        print(f"note: TF.js logits in {args.data} came from {meta['model']}, the port loads {args.model}")
    diff = check_port(model, x, tfjs_logits, args.tolerance)
    print(f'reference AutoAttack (fra31/auto-attack, {args.autoattack_dir}) on {args.model}')
    print(f'MNIST test 0..{args.n - 1}, L-inf eps {args.eps}, seed {args.seed}, torch {torch.__version__}, '
          f'{args.threads} thread(s); torch port vs advkit TF.js logits: max |diff| {diff:.2e}')

    t_start = time.time()
    record = {
        'reference': 'fra31/auto-attack, standard version (run by scripts/reference/run_autoattack.py)',
        'model': args.model,
        'model_checksum': meta.get('checksum'),
        'data': f'MNIST test, examples 0..{args.n - 1}',
        'examples': args.n,
        'norm': 'Linf',
        'epsilon': args.eps,
        'seed': args.seed,
        'batch_size': args.bs,
        'torch': torch.__version__,
        'threads': args.threads,
        'machine': platform.processor() or platform.machine(),
        'port_max_abs_logit_diff': diff,
        'labels': y.tolist(),
    }
    with torch.no_grad():
        clean_correct = model(x).argmax(1) == y
    record['clean_correct'] = [bool(v) for v in clean_correct.tolist()]
    record['clean_accuracy'] = clean_correct.sum().item() / args.n
    print(f'clean accuracy {100 * record["clean_accuracy"]:.2f} %')
    if args.mode in ('suite', 'both'):
        print('standard AutoAttack, each stage on the examples still robust:')
        suite, _, _ = run_suite(AutoAttack, model, x, y, args)
        record['suite'] = suite
        if args.check_suite:
            check_one_call(AutoAttack, model, x, y, args, suite)
    if args.mode in ('individual', 'both'):
        print('each attack alone on every clean-correct example:')
        record['individual'] = run_individual(AutoAttack, model, x, y, args, clean_correct)
    record['total_seconds'] = time.time() - t_start
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, 'w') as f:
        json.dump(record, f)
    print(f'total {record["total_seconds"]:.1f} s; per-example results in {out_path}')


if __name__ == '__main__':
    main()
