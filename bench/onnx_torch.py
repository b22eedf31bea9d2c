"""PyTorch CPU side of `npm run bench:onnx`: the torchvision network the ONNX
fixture was exported from, rebuilt with the export script's seed (so the
weights are the file's; checked against the logits saved beside it), timed
as advkit is timed: forward (no grad) and one FGSM step (the input gradient
of the summed cross-entropy through the ImageNet normalisation, a signed
step, clipping to [0, 1]); medians after warm-up.

Reads a JSON request on stdin:
  {"name": "resnet18", "seed": 0, "size": 224, "batch": 16, "runs": 5,
   "threads": [1, 0], "reference": "fixtures-large/resnet18"}
(threads 0 = torch's default) and prints one JSON object:
  {"check": {"maxAbsLogitDiff": ...}, "results": [{"threads": 1, "forwardMs": ..., "fgsmMs": ...}, ...]}
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts", "fixtures", "onnx"))
import export  # noqa: E402  (the fixture script: FULL, build, MEAN, STD)
from torch_reference import median_ms  # noqa: E402  (the same warm-up as the other PyTorch bench)


def saved_logits_check(model, reference, mean, std):
    """Max |logit difference| on the fixture's saved input: the rebuilt weights are the file's."""
    with open(os.path.join(reference, "reference.json")) as f:
        ref = json.load(f)
    blob = open(os.path.join(reference, "reference.bin"), "rb").read()

    def array(name):
        a = ref["arrays"][name]
        count = 1
        for s in a["shape"]:
            count *= s
        t = torch.frombuffer(bytearray(blob[a["offset"]: a["offset"] + 4 * count]), dtype=torch.float32)
        return t.reshape(a["shape"])

    with torch.no_grad():
        logits = model((array("input") - mean) / std)
    return float((logits - array("logits")).abs().max())


def main():
    req = json.load(sys.stdin)
    default_threads = torch.get_num_threads()
    torch.set_num_threads(default_threads)
    model = export.build(export.FULL[req["name"]], req["seed"], req["size"]).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    mean = torch.tensor(export.MEAN).view(1, 3, 1, 1)
    std = torch.tensor(export.STD).view(1, 3, 1, 1)
    out = {"torch": torch.__version__, "defaultThreads": default_threads, "results": []}
    if req.get("reference"):
        out["check"] = {"maxAbsLogitDiff": saved_logits_check(model, req["reference"], mean, std)}
    gen = torch.Generator().manual_seed(3)
    b, size = req["batch"], req["size"]
    x = torch.rand(b, 3, size, size, generator=gen)
    y = torch.arange(b) % 1000
    eps = 2 / 255

    def forward():
        with torch.no_grad():
            model((x - mean) / std)

    def fgsm():
        xi = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model((xi - mean) / std), y, reduction="sum")
        (g,) = torch.autograd.grad(loss, xi)
        return (x + eps * g.sign()).clamp(0, 1)

    for threads in req["threads"]:
        torch.set_num_threads(threads or default_threads)
        out["results"].append({
            "threads": threads or default_threads,
            "forwardMs": median_ms(forward, req["runs"]),
            "fgsmMs": median_ms(fgsm, req["runs"]),
        })
    print(json.dumps(out))


if __name__ == "__main__":
    main()
