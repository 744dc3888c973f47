"""Does bf16 autocast (+ channels_last) speed up training on this CPU? Interleaved A/B in one process:
ResNet18 @112, batch 16, forward+backward+SGD step, fp32 vs bf16 autocast, contiguous vs channels_last.
Run: .venv/bin/python bench/bench_amp.py [--steps 4]"""
import argparse, time, torch, torchvision
from face_research.core import amp_speeds_up
ap = argparse.ArgumentParser(); ap.add_argument('--steps', type=int, default=4); ap.add_argument('--bs', type=int, default=16)
a = ap.parse_args()
print('torch', torch.__version__, 'threads', torch.get_num_threads(), '| native bf16 (oneDNN):', amp_speeds_up('cpu'))
variants = {'fp32': (False, False), 'fp32+channels_last': (False, True), 'bf16': (True, False), 'bf16+channels_last': (True, True)}
models = {}
for k, (amp, cl) in variants.items():
    torch.manual_seed(0); m = torchvision.models.resnet18(num_classes=100)
    models[k] = (m.to(memory_format=torch.channels_last) if cl else m, torch.optim.SGD(m.parameters(), lr=0.01), amp, cl)
x0, y = torch.randn(a.bs, 3, 112, 112), torch.randint(0, 100, (a.bs,))
times = {k: [] for k in variants}
for step in range(a.steps + 1):          # step 0 is warm-up
    for k, (m, opt, amp, cl) in models.items():
        x = x0.to(memory_format=torch.channels_last) if cl else x0
        t = time.perf_counter()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp): loss = torch.nn.functional.cross_entropy(m(x), y)
        loss.backward(); opt.step(); opt.zero_grad()
        if step: times[k].append(time.perf_counter() - t)
base = sorted(times['fp32'])[len(times['fp32']) // 2]
for k, ts in times.items():
    med = sorted(ts)[len(ts) // 2]
    print(f"{k:20s} median {a.bs/med:7.2f} img/s   x{base/med:.2f} vs fp32")
