"""Recognition training throughput: the real end-to-end fastai loop against the bare model, side by side.

bare:        the same embedder + head + loss on one pre-made float batch already on the device:
             forward, loss, backward, torch SGD step. The most this hardware does for this model.
end-to-end:  `recognition_learner` + `face_dls` as `train-recognizer` runs them: uint8 cache -> device
             -> float, batched augmentation, per-batch reseeding, loss, fastai SGD with the one-cycle
             schedule, recorder.
pipeline:    the input side alone (loader + augmentation), for headroom.

The two sides run interleaved, step by step, inside one fit: after each end-to-end training step a
callback runs one bare step on a separate copy of the model, so both see the same machine load (this
project's machine is shared). --warmup untimed pairs, then --steps timed pairs of --bs images each.
Target: end-to-end >= 90% of bare. Data: --data DIR (aligned faces, <identity>/<image>.jpg) or a
generated 112x112 fixture.

  .venv/bin/python bench/bench_train.py [--data DIR] [--arch resnet34] [--stem ir] [--loss arcface]
                                        [--bs 64] [--steps 30] [--warmup 2] [--block 1] [--amp auto] [--json] [--check] [--sync-audit]
On a GPU use --block 10 (or more): a sync after every step hides the overlap of CPU and GPU work that
real training has, and under-reports end-to-end throughput.
"""
import argparse, copy, json, math, sys, tempfile, time, warnings
from pathlib import Path
import torch
from fastai.callback.core import Callback, CancelFitException
from face_research.core import default_device, autocast, train_autocast_dtype
from face_research.data import make_identity_fixture
from face_research.embedder import amp_speeds_up
from face_research.recognition import face_dls, recognition_learner, augment_batch, AUG_DEFAULTS


def _sync(dev):
    if torch.device(dev).type == 'cuda': torch.cuda.synchronize()


class BareStep:
    "One forward + loss + backward + torch SGD step of a copy of the model (and its head) on a fixed batch"
    def __init__(self, learn, bs, amp, k):
        self.dev, self.amp = learn.dls.device, amp
        self.model, self.loss_func = copy.deepcopy((learn.model, learn.loss_func))   # the head stays shared
        self.model.train()
        self.x = torch.rand(bs, 3, 112, 112, device=self.dev).contiguous(memory_format=torch.channels_last)
        self.y = (torch.arange(bs, device=self.dev) // k) % learn.dls.n_classes
        self.opt = torch.optim.SGD([p for p in self.model.parameters() if p.requires_grad], lr=1e-4, momentum=0.9, weight_decay=5e-4)
        self.dtype = train_autocast_dtype(self.dev)   # as in training (`recognition.amp_callback`)
        self.scaler = torch.amp.GradScaler('cuda') if amp and self.dtype == torch.float16 else None   # as fastai's MixedPrecision
    def __call__(self):
        with autocast(self.dev, enabled=self.amp, dtype=self.dtype): loss = self.loss_func(self.model(self.x), self.y)
        if self.scaler: self.scaler.scale(loss).backward(); self.scaler.step(self.opt); self.scaler.update()
        else: loss.backward(); self.opt.step()
        self.opt.zero_grad(set_to_none=True)


class Interleave(Callback):
    """Times blocks of `block` end-to-end training steps, then as many bare steps, alternately; stops after
    warmup + steps pairs. The device is synchronised only at block boundaries, so inside a block the CPU can
    queue work ahead of a GPU as in real training (block=1: every step timed on its own, no overlap)."""
    order = 95
    def __init__(self, bare, warmup, steps, block=1): self.bare, self.warmup, self.steps, self.block = bare, warmup, steps, block
    def before_fit(self): self.n, self.t_e2e, self.t_bare, self.mark = 0, [], [], None
    def before_train(self):
        if self.mark is None: _sync(self.dls.device); self.mark = time.perf_counter()
    def after_batch(self):
        if not self.training: return
        self.n += 1
        if self.n % self.block: return
        _sync(self.dls.device); t = time.perf_counter(); self.t_e2e.append((t - self.mark) / self.block)
        for _ in range(self.block): self.bare()
        _sync(self.dls.device); self.mark = time.perf_counter(); self.t_bare.append((self.mark - t) / self.block)
        if self.n >= self.warmup + self.steps: raise CancelFitException()


def sync_audit(learn, steps=4):
    """Where the end-to-end loop makes the host wait for the GPU: a short extra fit with CUDA's sync debug mode
    on from the end of batch 1 to the end of batch 1+steps (data loading included); each synchronising call
    is recorded with its innermost frames outside torch"""
    import traceback, warnings as w
    from collections import Counter
    found = Counter(); state = dict(n=0)
    def hook(message, category, filename, lineno, file=None, line=None):
        if 'synchroniz' not in str(message): return
        fr = [f for f in traceback.extract_stack()[:-1] if '/torch/' not in f.filename and '/warnings' not in f.filename
              and 'bench_train.py' not in f.filename]
        found[' <- '.join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in fr[-3:][::-1])] += 1
    class Audit(Callback):
        order = 1000
        def after_batch(self):
            if not self.training: return
            state['n'] += 1
            if state['n'] == 1: torch.cuda.set_sync_debug_mode(1)
            if state['n'] == 1 + steps: torch.cuda.set_sync_debug_mode(0); raise CancelFitException()
    with w.catch_warnings():
        w.simplefilter('always'); old, w.showwarning = w.showwarning, hook
        try:
            with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-4, cbs=Audit())
        finally: torch.cuda.set_sync_debug_mode(0); w.showwarning = old
    return dict(steps=steps, syncs_per_step=sum(found.values()) / steps, where=found.most_common(10))


def pipeline_speed(dls, steps):
    "img/s of the input side alone: loader + augmentation"
    n, t0 = 0, time.perf_counter()
    for i, (x, y) in enumerate(dls.train):
        x = augment_batch(x, **AUG_DEFAULTS); n += len(x)
        if i + 1 >= steps: break
    _sync(dls.device)
    return n / (time.perf_counter() - t0)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=None, help='aligned faces folder (default: a generated fixture)')
    p.add_argument('--arch', default='resnet34'); p.add_argument('--stem', default='ir')
    p.add_argument('--loss', default='arcface', choices=('ce', 'arcface', 'triplet', 'mix'))
    p.add_argument('--bs', type=int, default=64); p.add_argument('--steps', type=int, default=30)
    p.add_argument('--warmup', type=int, default=2); p.add_argument('--k', type=int, default=4)
    p.add_argument('--block', type=int, default=1, help='steps per timed block (sync only between blocks; warmup and steps: multiples of it)')
    p.add_argument('--amp', default='auto', choices=('auto', 'on', 'off'))
    p.add_argument('--device', default=None); p.add_argument('--json', action='store_true')
    p.add_argument('--check', action='store_true', help='exit 1 when end-to-end < 90%% of bare')
    p.add_argument('--sync-audit', action='store_true', help='CUDA: list where the training loop waits for the GPU (after the timing)')
    a = p.parse_args(argv)
    dev = default_device(a.device)
    amp = a.amp == 'on' or (a.amp == 'auto' and amp_speeds_up(dev))
    need = (a.warmup + a.steps) * a.bs
    with tempfile.TemporaryDirectory() as tmp:
        data = a.data
        if data is None:
            n_ids = max(16, a.bs // a.k)
            data = make_identity_fixture(Path(tmp)/'faces', n_ids=n_ids, per_id=math.ceil(need / n_ids), size=112)
        sampler = 'pk' if a.loss in ('triplet', 'mix') else 'random'
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            dls = face_dls(data, bs=a.bs, val_pct=0., sampler=sampler, k=a.k, cache_dir=Path(tmp)/'cache', device=dev)
        learn = recognition_learner(dls, a.loss, arch=a.arch, stem=a.stem, amp=a.amp)
        res = dict(arch=a.arch, stem=a.stem, loss=a.loss, bs=a.bs, steps=a.steps, warmup=a.warmup, block=a.block, device=str(dev),
                   amp=bool(amp), threads=torch.get_num_threads(), train_images=len(dls.train.dataset))
        if a.warmup % a.block or a.steps % a.block: p.error('--warmup and --steps must be multiples of --block')
        cb = Interleave(BareStep(learn, a.bs, amp, a.k), a.warmup, a.steps, a.block)
        n_epoch = math.ceil((a.warmup + a.steps) / len(dls.train))
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(n_epoch, 1e-3, cbs=cb)
        te, tb = cb.t_e2e[a.warmup // a.block:], cb.t_bare[a.warmup // a.block:]
        e2e, bare = a.bs * len(te) / sum(te), a.bs * len(tb) / sum(tb)   # per-step means
        ratios = sorted(b / e for e, b in zip(te, tb))
        pipe = pipeline_speed(dls, min(a.steps, len(dls.train)))
        if a.sync_audit:
            try: res['sync_audit'] = sync_audit(learn) if dev.type == 'cuda' else 'needs CUDA'
            except Exception as e: res['sync_audit'] = f'failed: {e!r}'
    res.update(bare_img_s=round(bare, 3), e2e_img_s=round(e2e, 3), ratio=round(e2e / bare, 3),
               step_ratio_min=round(ratios[0], 3), step_ratio_median=round(ratios[len(ratios) // 2], 3),
               step_ratio_max=round(ratios[-1], 3), pipeline_img_s=round(pipe, 1), passed=e2e >= 0.9 * bare)
    if a.json: print(json.dumps(res))
    else:
        print(f"{a.arch}/{a.stem} {a.loss} bs={a.bs} steps={a.steps} on {dev} (amp={amp}, {res['threads']} threads)")
        print(f"bare forward+backward: {bare:8.3f} img/s")
        print(f"end-to-end training:   {e2e:8.3f} img/s  = {100 * e2e / bare:.1f}% of bare  -> {'PASS' if res['passed'] else 'FAIL'} (target >= 90%)")
        print(f"per-step ratio e2e/bare: min {ratios[0]:.3f}, median {ratios[len(ratios) // 2]:.3f}, max {ratios[-1]:.3f} ({len(ratios)} pairs)")
        print(f"input pipeline alone:  {pipe:8.1f} img/s")
        if 'sync_audit' in res: print('sync audit:', res['sync_audit'])
    return 1 if (a.check and not res['passed']) else 0


if __name__ == '__main__': sys.exit(main())
