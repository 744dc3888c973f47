"""Data-parallel training on the CPU: one process on 2 threads, one on 1 thread, and 2 torchrun processes x 1 thread,
each the real `face-research train-recognizer` on the same generated identity fixture (default 16 identities x 8
faces, 112 px, ResNet34-IR, global batch 32, fp32, no held-out images), run one after the other in this script.
Reports seconds per epoch (`seconds_per_epoch` of the command's JSON summary: the mean over --epochs) and faces/s.

  .venv/bin/python bench/bench_distributed.py [--epochs 1] [--ids 16] [--per-id 8] [--save]
--save writes bench/results/distributed_cpu.json. Run it on a quiet machine: the three launches share the cores."""
import argparse, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path
from face_research.data import make_identity_fixture

ap = argparse.ArgumentParser()
ap.add_argument('--epochs', type=int, default=1); ap.add_argument('--ids', type=int, default=16)
ap.add_argument('--per-id', type=int, default=8); ap.add_argument('--bs', type=int, default=32)
ap.add_argument('--save', action='store_true'); a = ap.parse_args()

exe = shutil.which('face-research') or str(Path(sys.executable).parent/'face-research')
torchrun = shutil.which('torchrun') or str(Path(sys.executable).parent/'torchrun')
tmp = Path(tempfile.mkdtemp(prefix='bench_dist_'))
data = make_identity_fixture(tmp/'fx', n_ids=a.ids, per_id=a.per_id, size=112)
n_faces = a.ids * a.per_id
flags = ['train-recognizer', '--data', str(data), '--epochs', str(a.epochs), '--bs', str(a.bs), '--val-pct', '0',
         '--amp', 'off', '--device', 'cpu', '--cache-dir', str(tmp/'cache'), '--quiet', '--json']
launches = [('1 process, 2 threads', {'OMP_NUM_THREADS': '2'}, [exe]),
            ('1 process, 1 thread (OMP_NUM_THREADS=1)', {'OMP_NUM_THREADS': '1'}, [exe]),
            ('2 processes x 1 thread (torchrun, gloo)', {'OMP_NUM_THREADS': '1'},
             [torchrun, '--standalone', '--nproc_per_node', '2', exe])]
rows = []
for i, (name, env, cmd) in enumerate(launches):
    full = cmd + flags + ['--out', str(tmp/f'run{i}')]
    t0 = time.time()
    p = subprocess.run(full, env={**os.environ, **env}, capture_output=True, text=True)
    if p.returncode: sys.exit(f"{name}: exit {p.returncode}\n{p.stderr[-2000:]}")
    res = json.loads([l for l in p.stdout.splitlines() if l.startswith('{')][-1])
    s = res['seconds_per_epoch']
    rows.append(dict(launch=name, seconds_per_epoch=round(s, 1), faces_per_s=round(n_faces / s, 2),
                     wall_s=round(time.time() - t0, 1), command=' '.join(Path(full[0]).name if j == 0 else x for j, x in enumerate(full))))
    print(f"{name:45s} {s:7.1f} s/epoch  {n_faces / s:5.2f} faces/s")
shutil.rmtree(tmp, ignore_errors=True)
if a.save:
    out = Path('bench/results/distributed_cpu.json'); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(date=time.strftime('%Y-%m-%d %H:%M'), machine=f'{os.cpu_count()} CPU cores',
                                   model='resnet34 ir (default), 112 px, fp32', faces=n_faces, epochs=a.epochs, bs=a.bs,
                                   rows=rows), indent=1))
    print('saved', out)
