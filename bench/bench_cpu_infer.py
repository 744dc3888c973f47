"""Can the embedder run faster on this CPU without changing what it computes? (issue 7: the embedder is
71% of the batched pipeline here, compute-bound at the cores' fp32 matmul rate)

Side by side in one process, on the same real aligned faces, interleaved rounds, batch 16 and batch 1:
  fp32 eager        what `Embedder` runs (channels_last), the baseline
  int8 <engine>     post-training static int8 (torch.ao FX: conv+bn+relu fused, per-channel weights,
                    calibrated on 200 CelebA faces other than the measured ones), per quantized engine
  fp32 compiled     torch.compile (inductor) of the same fp32 model (--compile; minutes to compile)
Agreement with fp32: cosine between each face's fp32 and variant embedding (1 = identical).

Run: .venv/bin/python bench/bench_cpu_infer.py [--rounds 3] [--compile] [--save]   (--save: bench/results/cpu_infer.json)
"""
import argparse, copy, json, os, platform, time, warnings
import numpy as np, torch
from face_research.core import read_image, model_path
from face_research.data import identity_folders
from face_research.embedder import load_embedder

ap = argparse.ArgumentParser(); ap.add_argument('--faces', default='data/aligned/celeba', help='aligned identity folders')
ap.add_argument('--rounds', type=int, default=3); ap.add_argument('--seconds', type=float, default=3., help='per measurement')
ap.add_argument('--engines', default='x86,fbgemm,onednn'); ap.add_argument('--compile', action='store_true'); ap.add_argument('--save', action='store_true')
a = ap.parse_args()
warnings.filterwarnings('ignore')
torch.set_num_threads(min(2, os.cpu_count()))
fp32, meta = load_embedder(model_path('recognizer_r34.pth'), 'cpu')   # the single ResNet34-IR (the default until 2026-11-30); eval mode, channels_last, as `Embedder` runs it
paths = identity_folders(a.faces).path.tolist()
sel = np.random.default_rng(0).choice(len(paths), 264, replace=False)
x = torch.from_numpy(np.stack([read_image(paths[i]) for i in sel])).permute(0, 3, 1, 2).float().div(255)
calib, test = x[:200], x[200:].contiguous(memory_format=torch.channels_last)

def int8(engine):
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import prepare_fx, convert_fx
    torch.backends.quantized.engine = engine
    m = copy.deepcopy(fp32).to(memory_format=torch.contiguous_format)
    p = prepare_fx(m, get_default_qconfig_mapping(engine), example_inputs=(calib[:2],))
    with torch.no_grad():
        for i in range(0, len(calib), 25): p(calib[i:i+25])
    q = convert_fx(p)
    return lambda b: (setattr(torch.backends.quantized, 'engine', engine), q(b))[1]

models = {'fp32 eager': fp32}
for e in a.engines.split(','):
    if e in torch.backends.quantized.supported_engines: models[f'int8 {e}'] = int8(e)
if a.compile:
    t = time.perf_counter(); c = torch.compile(copy.deepcopy(fp32))
    with torch.no_grad(): c(test[:16]); c(test[:1])
    print(f"compiled in {time.perf_counter() - t:.0f} s"); models['fp32 compiled'] = c

with torch.no_grad():
    ref = fp32(test)
    agree = {n: (ref * m(test)).sum(1) for n, m in models.items()}
rates = {n: {1: [], 16: []} for n in models}
with torch.no_grad():
    for r in range(a.rounds):
        for bs in (16, 1):
            for n, m in models.items():
                b = test[:bs]; m(b); k = 0; t = time.perf_counter()
                while time.perf_counter() - t < a.seconds: m(b); k += bs
                rates[n][bs].append(k / (time.perf_counter() - t))
print(f"{len(test)} CelebA aligned faces, {torch.get_num_threads()} threads, {a.rounds} interleaved rounds (median faces/s)")
print(f"{'variant':16s} {'batch 16':>9s} {'x fp32':>7s} {'batch 1':>9s} {'x fp32':>7s}  cos to fp32 (mean / min)")
med = {n: {bs: float(np.median(v)) for bs, v in d.items()} for n, d in rates.items()}
for n in models:
    print(f"{n:16s} {med[n][16]:9.2f} {med[n][16] / med['fp32 eager'][16]:7.2f} {med[n][1]:9.2f} {med[n][1] / med['fp32 eager'][1]:7.2f}"
          f"  {agree[n].mean():.4f} / {agree[n].min():.4f}")
if a.save:
    out = dict(machine=platform.processor() or platform.machine(), threads=torch.get_num_threads(), torch=torch.__version__,
               n_faces=len(test), rounds=a.rounds, faces_per_s=med, raw=rates,
               cos_to_fp32={n: dict(mean=float(v.mean()), min=float(v.min())) for n, v in agree.items()},
               load_average_end=os.getloadavg()[0], date=time.strftime('%Y-%m-%d %H:%M'))
    os.makedirs('bench/results', exist_ok=True)
    with open('bench/results/cpu_infer.json', 'w') as f: json.dump(out, f, indent=1)
    print('saved bench/results/cpu_infer.json')
