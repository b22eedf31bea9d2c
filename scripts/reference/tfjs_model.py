"""A TF.js layers-model (model.json + weights.bin) as an equivalent PyTorch module.

The reference attacks (fra31/auto-attack) are PyTorch code; to run them on the
weights advkit ships, the network is rebuilt here layer by layer from the
topology in model.json and the weights manifest, and nothing else (no
architecture is hard-coded, so a retrained model is picked up as it is).

Layouts differ between the two frameworks and every difference is handled here:
- activations: TF.js is NHWC, the module is NCHW (AutoAttack's Square reads
  c, h, w = x.shape[1:]), so the module takes [N, 1, 28, 28] images;
- conv kernels: TF.js stores [kh, kw, in, out] (HWIO), torch wants [out, in, kh, kw];
- Flatten: TF.js flattens an NHWC map in (h, w, c) order, torch an NCHW map in
  (c, h, w) order, so the first Dense after a Flatten of a feature map gets its
  input rows permuted from (h, w, c) to (c, h, w);
- Dense kernels: TF.js stores [in, out], torch.nn.Linear [out, in].

Supported layers: ZeroPadding2D, Conv2D (valid or same padding, any stride,
dilation 1), MaxPooling2D, Flatten, Dense, Dropout (identity at inference),
Activation; activations linear and relu. A softmax output is refused: the
reference attacks need logits.
"""

import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIVATIONS = {'linear': None, 'relu': nn.ReLU}


class ModelFormatError(ValueError):
    """model.json is not a layers-model this port can rebuild exactly."""


def _layers(topology):
    if topology.get('class_name') != 'Sequential':
        raise ModelFormatError(
            f"only Sequential layers-models are supported; model.json has class_name {topology.get('class_name')!r}")
    config = topology['config']
    return config['layers'] if isinstance(config, dict) else config


def _read_weights(model_dir, manifest):
    """Name -> float32 array, in the byte order the manifest lists them (one weights file or several, concatenated)."""
    out = {}
    for group in manifest:
        raw = b''.join(open(os.path.join(model_dir, p), 'rb').read() for p in group['paths'])
        offset = 0
        for w in group['weights']:
            if w.get('dtype', 'float32') != 'float32' or 'quantization' in w:
                raise ModelFormatError(f"weight {w['name']}: only unquantised float32 is supported")
            count = int(np.prod(w['shape'])) if w['shape'] else 1
            end = offset + 4 * count
            if end > len(raw):
                raise ModelFormatError(
                    f"weight {w['name']} needs bytes {offset}..{end} but the weight files hold {len(raw)}")
            out[w['name']] = np.frombuffer(raw[offset:end], dtype='<f4').reshape(w['shape']).copy()
            offset = end
        if offset != len(raw):
            raise ModelFormatError(f"weight files hold {len(raw)} bytes, the manifest accounts for {offset}")
    return out


class _SamePad(nn.Module):
    """TF's 'same' padding: total pad max((ceil(n/s) - 1)s + k - n, 0), the extra pixel at the end."""

    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        pads = []
        for n, k, s in zip(x.shape[2:], self.kernel, self.stride):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        return F.pad(x, (left, right, top, bottom))


def _activation(name, layer_name):
    if name not in ACTIVATIONS:
        raise ModelFormatError(f"layer {layer_name}: activation {name!r} is not supported (linear or relu; the output must be logits)")
    return ACTIVATIONS[name]


def load_tfjs_layers_model(model_json):
    """Build the torch module (eval mode, float32, NCHW input) and return (module, input_shape_hwc)."""
    model_dir = os.path.dirname(os.path.abspath(model_json))
    with open(model_json) as f:
        spec = json.load(f)
    if spec.get('format') != 'layers-model':
        raise ModelFormatError(f"{model_json}: format {spec.get('format')!r}, expected 'layers-model'")
    layers = _layers(spec['modelTopology'])
    weights = _read_weights(model_dir, spec['weightsManifest'])
    first = layers[0]['config']
    shape = first.get('batch_input_shape') or first.get('batchInputShape')
    if shape is None:
        raise ModelFormatError('the first layer has no batch_input_shape')
    h, w, c = shape[1:]
    modules = []
    # Track the NHWC shape of the running activation so that Flatten knows the map it flattens.
    cur = ('map', h, w, c)
    for layer in layers:
        kind, cfg = layer['class_name'], layer['config']
        name = cfg['name']
        if cfg.get('data_format', 'channels_last') != 'channels_last':
            raise ModelFormatError(f"layer {name}: data_format {cfg['data_format']!r}; only channels_last is supported")
        if kind == 'ZeroPadding2D':
            (t, b), (l, r) = cfg['padding'] if isinstance(cfg['padding'][0], list) else [[cfg['padding'][0]] * 2, [cfg['padding'][1]] * 2]
            modules.append(nn.ZeroPad2d((l, r, t, b)))
            cur = ('map', cur[1] + t + b, cur[2] + l + r, cur[3])
        elif kind == 'Conv2D':
            kernel = weights[f'{name}/kernel']
            kh, kw, cin, cout = kernel.shape
            if list(cfg.get('dilation_rate', [1, 1])) != [1, 1]:
                raise ModelFormatError(f'layer {name}: dilation is not supported')
            sh, sw = cfg['strides']
            if cfg['padding'] == 'same':
                modules.append(_SamePad((kh, kw), (sh, sw)))
                oh, ow = -(-cur[1] // sh), -(-cur[2] // sw)
            elif cfg['padding'] == 'valid':
                oh, ow = (cur[1] - kh) // sh + 1, (cur[2] - kw) // sw + 1
            else:
                raise ModelFormatError(f"layer {name}: padding {cfg['padding']!r}")
            conv = nn.Conv2d(cin, cout, (kh, kw), stride=(sh, sw), bias=cfg.get('use_bias', True))
            conv.weight.data = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())  # HWIO -> OIHW
            if conv.bias is not None:
                conv.bias.data = torch.from_numpy(weights[f'{name}/bias'])
            modules.append(conv)
            act = _activation(cfg.get('activation', 'linear'), name)
            if act:
                modules.append(act())
            cur = ('map', oh, ow, cout)
        elif kind == 'MaxPooling2D':
            if cfg.get('padding', 'valid') != 'valid':
                raise ModelFormatError(f'layer {name}: only valid max-pooling is supported')
            ph, pw = cfg['pool_size']
            sh, sw = cfg.get('strides') or cfg['pool_size']
            modules.append(nn.MaxPool2d((ph, pw), stride=(sh, sw)))
            cur = ('map', (cur[1] - ph) // sh + 1, (cur[2] - pw) // sw + 1, cur[3])
        elif kind == 'Flatten':
            modules.append(nn.Flatten())
            cur = ('flat', cur) if cur[0] == 'map' else cur
        elif kind == 'Dense':
            kernel = weights[f'{name}/kernel']  # [in, out]
            fin, fout = kernel.shape
            if cur[0] == 'flat' and isinstance(cur[1], tuple):
                _, mh, mw, mc = cur[1]
                if mh * mw * mc != fin:
                    raise ModelFormatError(f'layer {name}: {fin} inputs, but the flattened map is {mh}x{mw}x{mc}')
                # Rows are in TF.js's (h, w, c) flatten order; the torch map flattens as (c, h, w).
                kernel = kernel.reshape(mh, mw, mc, fout).transpose(2, 0, 1, 3).reshape(fin, fout)
            dense = nn.Linear(fin, fout, bias=cfg.get('use_bias', True))
            dense.weight.data = torch.from_numpy(kernel.T.copy())
            if dense.bias is not None:
                dense.bias.data = torch.from_numpy(weights[f'{name}/bias'])
            modules.append(dense)
            act = _activation(cfg.get('activation', 'linear'), name)
            if act:
                modules.append(act())
            cur = ('flat', fout)
        elif kind == 'Dropout':
            pass
        elif kind == 'Activation':
            act = _activation(cfg['activation'], name)
            if act:
                modules.append(act())
        else:
            raise ModelFormatError(f'layer {name}: {kind} is not supported by this port')
    model = nn.Sequential(*modules).float().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, (h, w, c)
