"""Per-step host-side work of recognition training: what a GPU has to hide (issue 6: end-to-end training on
the H200 ran at 65% of the bare model). Measurable without a GPU:

1. aten ops dispatched per training step (each one is a kernel launch on a GPU), counted with a dispatch
   mode over one real fastai training batch (ResNet34-IR, ArcFace, EMA 0.999, as `train-recognizer` runs
   it) with `ForeachSGD` (the default since 2026-11-29) and with fastai's per-parameter `SGD`, next to the
   bare step of `bench_train.py` (torch SGD, no callbacks);
2. host time of the optimiser step + zero_grad, and of the EMA update, on 118 one-element tensors (the
   ResNet34 model's tensor count, no arithmetic to speak of: the Python and dispatch cost alone), with
   fastai's `SGD` and the former per-tensor EMA loop as baselines. Median of --reps, interleaved.

Run: .venv/bin/python bench/bench_step_ops.py [--reps 300] [--save]   (--save: bench/results/step_ops.json)
"""
import argparse, collections, copy, json, os, platform, sys, tempfile, time, warnings
from functools import partial
from pathlib import Path
import numpy as np, torch, torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode
from fastai.callback.core import Callback, CancelFitException
from fastai.optimizer import SGD
sys.path.insert(0, str(Path(__file__).parent))
from bench_train import BareStep
from face_research.data import make_identity_fixture
from face_research.recognition import face_dls, recognition_learner, foreach_sgd

ap = argparse.ArgumentParser(); ap.add_argument('--reps', type=int, default=300); ap.add_argument('--save', action='store_true')
a = ap.parse_args()
warnings.simplefilter('ignore')

class Count(TorchDispatchMode):
    def __init__(self): super().__init__(); self.n = collections.Counter()
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.n[str(func.overloadpacket)] += 1
        return func(*args, **(kwargs or {}))

class OneStep:
    "Counts the ops of the 2nd training batch, from the first `before_batch` callback to the last `after_batch` one"
    def __init__(self): self.k, self.m, self.ops = 0, None, None
    def start(self, training):
        if not training: return
        self.k += 1
        if self.k == 2: self.m = Count(); self.m.__enter__()
    def stop(self, training):
        if training and self.m is not None:
            self.m.__exit__(None, None, None); self.ops, self.m = self.m.n, None; raise CancelFitException()

def e2e_ops(data, opt_func=None):
    dls = face_dls(data, bs=8, val_pct=0., sampler='random', cache_dir=Path(data).parent/'cache', device='cpu')
    learn = recognition_learner(dls, 'arcface', arch='resnet34', stem='ir', amp='off', ema=0.999, margin_hold=0.1, margin_warmup=0.2)
    if opt_func is not None: learn.opt_func = opt_func
    o = OneStep()
    first = type('First', (Callback,), dict(order=-100, before_batch=lambda s: o.start(s.training)))()
    last = type('Last', (Callback,), dict(order=1000, after_batch=lambda s: o.stop(s.training)))()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(1, 1e-3, cbs=[first, last])
    bare = BareStep(learn, 8, False, 4); bare()
    m = Count()
    with m: bare()
    opt = getattr(learn.opt, 'opt', learn.opt)
    return o.ops, m.n, 'ForeachSGD' if type(opt).__name__ == 'ForeachSGD' else 'fastai ' + type(opt).__name__

def host_us(fn, reps):
    fn(); ts = []
    for _ in range(reps): t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return float(np.median(ts) * 1e6)

with tempfile.TemporaryDirectory() as tmp:
    data = make_identity_fixture(Path(tmp)/'faces', n_ids=8, per_id=8, size=112)
    ops_new, ops_bare, name_new = e2e_ops(data)
    ops_old, _, name_old = e2e_ops(data, partial(SGD, mom=0.9))

# host time on 118 one-element tensors (ResNet34-IR + head + ArcFace weight: 118 trainable tensors)
def params(n=118):
    ps = [nn.Parameter(torch.randn(1)) for _ in range(n)]
    for p in ps: p.grad = torch.randn(1)
    return ps
p_old, p_new = params(), params()
o_old = SGD(p_old, lr=0.1, mom=0.9, wd=5e-4); o_new = foreach_sgd()(p_new, lr=0.1, wd=5e-4)
def step_old(): o_old.step(); o_old.zero_grad()
def step_new(): o_new.step(); o_new.opt.zero_grad(set_to_none=False)   # zeroed like fastai's, so the grads stay for the next rep
avg, cur = [torch.zeros(1) for _ in range(118 + 111)], [torch.randn(1) for _ in range(118 + 111)]   # + BN buffers
def ema_old():
    with torch.no_grad():
        for e, p in zip(avg[:118], cur[:118]): e.lerp_(p.detach(), 0.001)
        for e, b in zip(avg[118:], cur[118:]): e.copy_(b)
def ema_new():
    with torch.no_grad(): torch._foreach_lerp_(avg[:118], cur[:118], 0.001); torch._foreach_copy_(avg[118:], cur[118:])
rows = collections.defaultdict(list)
for r in range(3):   # interleaved rounds
    rows['opt fastai SGD'].append(host_us(step_old, a.reps))
    rows['opt ForeachSGD'].append(host_us(step_new, a.reps))
    rows['EMA per-tensor loop'].append(host_us(ema_old, a.reps))
    rows['EMA foreach'].append(host_us(ema_new, a.reps))
host = {k: float(np.median(v)) for k, v in rows.items()}

tot = lambda c: int(sum(c.values()))
print(f"aten ops per training step (ResNet34-IR, ArcFace, EMA; one fastai batch, all callbacks):")
print(f"  end-to-end, {name_new:18s} {tot(ops_new):6d}")
print(f"  end-to-end, {name_old:18s} {tot(ops_old):6d}")
print(f"  bare step (bench_train)  {tot(ops_bare):6d}")
print(f"host time per step on 118 one-element tensors (median of 3 x {a.reps}):")
for k, v in host.items(): print(f"  {k:22s} {v:8.0f} us")
if a.save:
    out = dict(ops_per_step={'end-to-end ForeachSGD': tot(ops_new), 'end-to-end fastai SGD': tot(ops_old), 'bare': tot(ops_bare)},
               top_ops={'end-to-end ForeachSGD': ops_new.most_common(8), 'end-to-end fastai SGD': ops_old.most_common(8)},
               host_us=host, host_us_rounds=rows, reps=a.reps, torch=torch.__version__, machine=platform.processor() or platform.machine(),
               date=time.strftime('%Y-%m-%d %H:%M'))
    os.makedirs('bench/results', exist_ok=True)
    with open('bench/results/step_ops.json', 'w') as f: json.dump(out, f, indent=1)
    print('saved bench/results/step_ops.json')
