"""PyTorch CPU reference for advkit's benchmark: the same architectures, FGSM,
PGD-10 and one FGSM-RS adversarial-training step, timed the same way (median
of several runs after warm-up).

Reads a JSON request on stdin: {"threads": 2, "runs": 5, "cases": [{"model":
"mnist-cnn", "batch": 64}, ...]} and prints one JSON list of results.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mnist_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout, eps=1e-3)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout, eps=1e-3)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps=1e-3))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


def resnet_small():
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16, eps=1e-3), nn.ReLU(),
        Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def inverted(cin, cout, stride, expand):
    hidden = cin * expand
    layers = []
    if expand != 1:
        layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden, eps=1e-3), nn.ReLU6()]
    layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden, eps=1e-3), nn.ReLU6(),
               nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-3)]
    return nn.Sequential(*layers)


class Inverted(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        self.body = inverted(cin, cout, stride, expand)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


# (expand, channels, repeats, stride): MobileNetV2's table
MOBILENET_V2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def mobilenet_v2():
    layers = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32, eps=1e-3), nn.ReLU6()]
    cin = 32
    for t, c, n, s in MOBILENET_V2:
        for i in range(n):
            layers.append(Inverted(cin, c, s if i == 0 else 1, t))
            cin = c
    layers += [nn.Conv2d(cin, 1280, 1, bias=False), nn.BatchNorm2d(1280, eps=1e-3), nn.ReLU6(),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, 1000)]
    return nn.Sequential(*layers)


MODELS = {
    "mnist-cnn": (mnist_cnn, (1, 28, 28), 10),
    "resnet-small": (resnet_small, (3, 32, 32), 10),
    "mobilenetv2": (mobilenet_v2, (3, 224, 224), 1000),
}


def median_ms(fn, runs):
    # Warm-up as advkit's bench does: at least three calls and one second.
    start = time.perf_counter()
    calls = 0
    while calls < 3 or time.perf_counter() - start < 1:
        fn()
        calls += 1
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req.get("threads", 2))
    torch.manual_seed(0)
    out = []
    for case in req["cases"]:
        make, shape, classes = MODELS[case["model"]]
        net = make().eval()
        b = case["batch"]
        x = torch.rand(b, *shape)
        y = torch.randint(0, classes, (b,))
        eps = 0.1

        def forward():
            with torch.no_grad():
                net(x)

        def input_grad(xs):
            xa = xs.detach().requires_grad_(True)
            loss = F.cross_entropy(net(xa), y, reduction="sum")
            g, = torch.autograd.grad(loss, xa)
            return g

        def fgsm():
            (x + eps * input_grad(x).sign()).clamp(0, 1)

        def pgd10():
            # advkit's PGD preset: random start, 10 steps of 2.5ε/10, projection.
            xa = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
            for _ in range(10):
                xa = xa + 0.25 * eps * input_grad(xa).sign()
                xa = (x + (xa - x).clamp(-eps, eps)).clamp(0, 1)

        opt = torch.optim.SGD(net.parameters(), lr=0.01)

        def train_step():
            # FGSM-RS (Wong et al. 2020): uniform start, one 1.25ε signed step,
            # projection, one SGD step on the adversarial batch. The network
            # stays in eval mode, as advkit's step uses inference-mode logits.
            start = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
            xa = start + 1.25 * eps * input_grad(start).sign()
            xa = (x + (xa - x).clamp(-eps, eps)).clamp(0, 1).detach()
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(net(xa), y).backward()
            opt.step()

        runs = case.get("runs", req.get("runs", 5))
        # Matches advkit's bench: MobileNetV2 beyond batch 1 times forward and FGSM only.
        slow = case["model"] == "mobilenetv2" and b > 1
        f = median_ms(forward, runs)
        a = median_ms(fgsm, max(2, runs // 2) if slow else runs)
        p = None if slow else median_ms(pgd10, max(2, runs // 2))
        t = None if slow else median_ms(train_step, runs)
        out.append({"model": case["model"], "batch": b, "forwardMs": f, "fgsmMs": a,
                    "pgd10Ms": p, "trainMs": t})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
