"""The open-source comparison table of nbs/11_research.ipynb (issue 8), generated from result files.

Rows: our recognizer (each loss variant, and the shipped model), dlib, MTCNN's landmarks, dlib's
68-point landmarks and our aligner. Columns: LFW accuracy, identification TPR at FPR 0.1 and 0.01,
landmark NME, speed, model size and install size. Nothing is typed: every figure comes from

- outputs/research/*.json, written by the measurement cells of nbs/11_research.ipynb (git-ignored),
  or, when a file is missing there (a clean clone), its committed copy in bench/results/research_*.json;
- models/recognizer_variants.json (LFW results of the loss variants, made by the training run) and
  models/recognizer.pth (evaluated here with `face-research eval-lfw`, see --eval-ours).

A row whose inputs do not exist says so ("not trained yet", "not measured") instead of a number.

    .venv/bin/python bench/research_table.py                    # print the table (markdown)
    .venv/bin/python bench/research_table.py --measure-install  # re-measure install sizes (du) first
    .venv/bin/python bench/research_table.py --eval-ours        # evaluate models/recognizer.pth on LFW first (cached)
    .venv/bin/python bench/research_table.py --save             # also copy the result files to bench/results/
"""
import argparse, importlib.metadata as md, json, os, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT, COMMITTED = ROOT/'outputs'/'research', ROOT/'bench'/'results'
# result name -> (committed copy, key in it): the dlib results share one file
FILES = {'dlib_lfw': ('research_dlib.json', 'lfw'), 'dlib_speed': ('research_dlib.json', 'speed'),
         'dlib_lfw_diagnostics': ('research_dlib.json', 'lfw_diagnostics'), 'landmarks': ('research_landmarks.json', None),
         'bench': ('research_bench.json', None), 'install': ('research_install.json', None), 'ours_lfw': ('research_ours_lfw.json', None)}

def load(name):
    "A result: outputs/research/NAME.json, else its committed copy in bench/results/, else None; with the file it came from"
    p = OUT/f'{name}.json'
    if p.exists(): return json.loads(p.read_text()), p
    f, key = FILES[name]; p = COMMITTED/f
    if p.exists():
        d = json.loads(p.read_text())
        if key is None: return d, p
        if key in d: return d[key], p
    return None, None

# ---- install sizes (du on the installed package folders) ----
def _norm(n): return re.sub(r'[-_.]+', '-', n).lower()

def dist_paths(name):
    "Top-level files and folders a distribution installed into site-packages (package dirs, extension modules, .libs, dist-info)"
    d = md.distribution(name)
    tops = {Path(str(f)).parts[0] for f in (d.files or []) if not str(f).startswith('..')}
    return sorted(p for p in (Path(d.locate_file(t)) for t in tops) if p.exists() and p.suffix != '.pth')

def du_mb(paths):
    "Disk use of `paths` in MB (du -skc, each path counted once)"
    paths = [str(p) for p in paths]
    if not paths: return 0.
    out = subprocess.run(['du', '-skc', *paths], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1].split()[0]) * 1024 / 1e6   # MB (10^6 bytes), like the model sizes

def requires_closure(names):
    "The distributions `names` need, recursively (markers evaluated, extras left out), themselves included"
    from packaging.requirements import Requirement
    seen, todo = set(), list(names)
    while todo:
        n = _norm(todo.pop())
        if n in seen: continue
        try: d = md.distribution(n)
        except md.PackageNotFoundError: continue
        seen.add(n)
        for r in d.requires or []:
            req = Requirement(r)
            if req.marker is not None and not req.marker.evaluate({'extra': ''}): continue
            todo.append(req.name)
    return seen

CUDA_LIBS = ('nvidia-', 'cuda-', 'triton')   # the CUDA runtime that the PyPI torch wheel pulls in

def measure_install():
    "Install sizes (MB) of each library: its own folders, with everything it requires, and with that minus torch's CUDA libraries"
    libs = {'dlib': ['dlib-bin', 'face-recognition-models'], 'facenet-pytorch': ['facenet-pytorch'], 'ours': ['face_research']}
    old, _ = load('install'); res = {}
    for lib, dists in libs.items():
        try: own = [p for d in dists for p in dist_paths(d)]
        except md.PackageNotFoundError as e:   # not installed here: keep the earlier measurement
            res[lib] = (old or {}).get(lib) or dict(missing=str(e)); continue
        if lib == 'ours': own = [ROOT/'face_research', ROOT/'models']   # an editable install: the package and its model files
        deps = sorted(requires_closure(dists) - {_norm(d) for d in dists})
        dep_paths = {d: dist_paths(d) for d in deps}
        nocuda = [p for d, ps in dep_paths.items() if not d.startswith(CUDA_LIBS) for p in ps]
        res[lib] = dict(dists=dists, versions={d: md.version(d) for d in dists}, own_mb=round(du_mb(own), 1),
                        with_deps_mb=round(du_mb(own + [p for ps in dep_paths.values() for p in ps]), 1),
                        with_deps_no_cuda_mb=round(du_mb(own + nocuda), 1), deps=deps)
    res['how'] = ("du -skc on the top-level site-packages entries in each distribution's RECORD (ours: face_research/ + models/); "
                  "with_deps adds the requirement closure; with_deps_no_cuda leaves out " + ', '.join(f'{c}*' for c in CUDA_LIBS))
    OUT.mkdir(parents=True, exist_ok=True); (OUT/'install.json').write_text(json.dumps(res, indent=1))
    return res

# ---- our shipped recognizer ----
def weights_sha1(p):
    "`face_research.core.weights_sha1` (the id eval caches use: a recalibrated threshold keeps it), imported when needed (it brings torch)"
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    from face_research.core import weights_sha1 as ws
    return ws(p)

def same_model(ours, model)->bool:
    "Whether the result `ours` is of `model`'s weights"
    return ours is not None and ours.get('model_weights_sha1') == weights_sha1(model)

def eval_ours(model=ROOT/'models'/'recognizer.pth', aligned=ROOT/'data'/'aligned'/'lfw'):
    "`face-research eval-lfw` on the shipped model (aligned crops, flip), cached in outputs/cache; result to outputs/research/ours_lfw.json"
    if not model.exists(): print(f"{model} does not exist: not trained yet", file=sys.stderr); return None
    args = ['eval-lfw', '--model', str(model.relative_to(ROOT)), '--flip', '--json']
    if aligned.exists(): args += ['--aligned', str(aligned.relative_to(ROOT))]
    # the CLI through this interpreter (an installed `face-research` script may belong to another venv)
    cmd = [sys.executable, '-c', 'import sys; from face_research.cli import main; sys.exit(main())', *args]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if r.returncode: sys.exit(f"eval-lfw failed ({r.returncode}):\n{r.stderr[-3000:]}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res.update(model_file=str(model.relative_to(ROOT)), model_weights_sha1=weights_sha1(model), model_mb=round(model.stat().st_size / 1e6, 1),
               command=' '.join(['face-research'] + args))
    OUT.mkdir(parents=True, exist_ok=True); (OUT/'ours_lfw.json').write_text(json.dumps(res, indent=1))
    return res

# ---- the table ----
def pct(v, std=None): return '—' if v is None else f"{100 * v:.2f}%" + (f" ± {100 * std:.2f}" if std is not None else '')
def num(v, fmt='{:.1f}'): return '—' if v is None else v if isinstance(v, str) else fmt.format(v)
def tpr(d, f):
    if not d: return None
    for k, v in d.items():
        if float(k) == f: return v

def build():
    "(rows, notes): the table rows as dicts, and the source of every input"
    rows, notes = [], []
    inst, p = load('install'); notes.append(f"install sizes: {p.relative_to(ROOT) if p else 'not measured'}")
    def isz(lib):
        d = (inst or {}).get(lib) or {}
        return (d.get('own_mb'), d.get('with_deps_no_cuda_mb'), d.get('with_deps_mb'))
    bench, p = load('bench'); notes.append(f"speed of our pipeline, aligner and MTCNN: {p.relative_to(ROOT) if p else 'not measured'}")
    bench = bench or {}
    pipe = bench.get('pipeline', {})
    pipe_speed = (f"{pipe['pipeline_batched_photos_per_s']:.1f} / {pipe['pipeline_single_photos_per_s']:.1f}") if pipe else None
    pipe_what = (f"photos/s, whole pipeline{' (untrained weights)' if pipe.get('random_init') else ''}, batch {pipe.get('batch', '?')} / one by one"
                 if pipe else 'not measured')
    # our recognizers
    ours_mb = (ROOT/'models'/'recognizer.pth').stat().st_size / 1e6 if (ROOT/'models'/'recognizer.pth').exists() else None
    vf = ROOT/'models'/'recognizer_variants.json'
    if vf.exists():
        variants = json.loads(vf.read_text()); notes.append(f"loss variants: {vf.relative_to(ROOT)}")
        for name, v in variants.items():
            rows.append(dict(method=f"ours: {name}", acc=pct(v.get('lfw_accuracy'), v.get('lfw_accuracy_std')),
                             t1=num(tpr(v.get('tpr_at_fpr'), 0.1), '{:.3f}'), t2=num(tpr(v.get('tpr_at_fpr'), 0.01), '{:.3f}'), nme='—',
                             speed=num(pipe_speed), what=pipe_what, model=num(v.get('model_mb'), '{:.1f}'), inst=isz('ours')))
    else:
        rows.append(dict(method='ours: loss variants', acc='not trained yet', t1='not trained yet', t2='not trained yet', nme='—',
                         speed=num(pipe_speed), what=pipe_what, model='—', inst=isz('ours')))
        notes.append(f"loss variants: {vf.relative_to(ROOT)} does not exist yet")
    model = ROOT/'models'/'recognizer.pth'
    ours, p = load('ours_lfw')
    if not model.exists():
        rows.append(dict(method='ours: shipped models/recognizer.pth', acc='not trained yet', t1='not trained yet', t2='not trained yet',
                         nme='—', speed=num(pipe_speed), what=pipe_what, model='—', inst=isz('ours')))
    elif not same_model(ours, model):
        rows.append(dict(method='ours: shipped models/recognizer.pth', acc='not evaluated yet (--eval-ours)', t1='—', t2='—', nme='—',
                         speed=num(pipe_speed), what=pipe_what, model=num(ours_mb), inst=isz('ours')))
    else:
        notes.append(f"shipped recognizer: {p.relative_to(ROOT)} ({ours.get('command')})")
        rows.append(dict(method=f"ours: shipped models/recognizer.pth{' (flip)' if ours.get('flip') else ''}",
                         acc=pct(ours['lfw_accuracy'], ours['lfw_accuracy_std']), t1=num(tpr(ours['tpr_at_fpr'], 0.1), '{:.3f}'),
                         t2=num(tpr(ours['tpr_at_fpr'], 0.01), '{:.3f}'), nme='—', speed=num(pipe_speed), what=pipe_what,
                         model=num(ours.get('model_mb')), inst=isz('ours')))
    # dlib recognition
    dl, p = load('dlib_lfw'); sp, p2 = load('dlib_speed')
    notes.append(f"dlib LFW: {p.relative_to(ROOT) if p else 'not measured'}; dlib speed: {p2.relative_to(ROOT) if p2 else 'not measured'}")
    if dl:
        L = dl['lfw']; chain = (sp or {}).get('chain', {})
        rows.append(dict(method='dlib: HOG + 5-point + ResNet (128-d)', acc=pct(L['lfw_accuracy'], L['lfw_accuracy_std']),
                         t1=num(tpr(L['tpr_at_fpr'], 0.1), '{:.3f}'), t2=num(tpr(L['tpr_at_fpr'], 0.01), '{:.3f}'), nme='—',
                         speed=num(chain.get('photos_per_s')), what="photos/s, whole chain, one by one" if chain else 'not measured',
                         model=num(dl.get('model_mb')), inst=isz('dlib')))
    else: rows.append(dict(method='dlib: HOG + 5-point + ResNet (128-d)', acc='not measured', t1='—', t2='—', nme='—', speed='—', what='', model='—', inst=isz('dlib')))
    # landmarks
    lm, p = load('landmarks'); notes.append(f"landmarks: {p.relative_to(ROOT) if p else 'not measured'}")
    lm = lm or {}
    def lrow(key, method, speed, what, model, inst):
        r = lm.get('methods', {}).get(key)
        nme = '—' if r is None else f"{r['nme']:.2f}% (fail {r['failure_rate']:.1f}%)"
        rows.append(dict(method=method, acc='—', t1='—', t2='—', nme=nme, speed=num(speed), what=what, model=num(model), inst=inst))
    al = bench.get('aligner', {})
    lrow('ours', 'ours: aligner (Stacked Hourglass, two passes)', al.get('faces_per_s'),
         f"faces/s, 80x80 crops, batch {al.get('bs', '?')}" if al else 'not measured',
         lm.get('model_mb', {}).get('ours'), isz('ours'))
    mt_speed = pipe.get('mtcnn_batched_photos_per_s')
    lrow('mtcnn', 'MTCNN landmarks (facenet-pytorch, best box choice)', mt_speed,
         f"photos/s, detection, batch {pipe.get('batch', '?')}" if pipe else 'not measured',
         lm.get('model_mb', {}).get('mtcnn'), isz('facenet-pytorch'))
    dsp = lm.get('methods', {}).get('dlib68', {}).get('faces_per_s')
    lrow('dlib68', 'dlib 68-point landmarks -> 5 (HOG box)', dsp, 'faces/s, 80x80 crops, one by one',
         lm.get('model_mb', {}).get('dlib68'), isz('dlib'))
    return rows, notes

def markdown(rows):
    H = ['method', 'LFW accuracy', 'TPR@FPR 0.1', 'TPR@FPR 0.01', 'landmark NME', 'speed', 'speed measures', 'model MB', 'install MB: own / +deps (no CUDA libs) / +deps']
    L = ['| ' + ' | '.join(H) + ' |', '|' + '---|' * len(H)]
    for r in rows:
        own, dnc, dep = r['inst']
        L.append('| ' + ' | '.join([r['method'], r['acc'], r['t1'], r['t2'], r['nme'], r['speed'], r['what'], r['model'],
                                     '—' if own is None else f"{own:.0f} / {dnc:.0f} / {dep:.0f}"]) + ' |')
    return '\n'.join(L)

def save_copies():
    "Copy outputs/research/*.json to bench/results/research_*.json (small, committed: the table can be made on a clean clone)"
    COMMITTED.mkdir(parents=True, exist_ok=True)
    merged = {}
    for name, (dst, key) in FILES.items():
        src = OUT/f'{name}.json'
        if not src.exists(): continue
        if key is None: shutil.copyfile(src, COMMITTED/dst)
        else:
            if dst not in merged: merged[dst] = json.loads((COMMITTED/dst).read_text()) if (COMMITTED/dst).exists() else {}
            merged[dst][key] = json.loads(src.read_text())
        print(f"copied {src.relative_to(ROOT)} -> {(COMMITTED/dst).relative_to(ROOT)}{f' [{key}]' if key else ''}", file=sys.stderr)
    for dst, d in merged.items(): (COMMITTED/dst).write_text(json.dumps(d, indent=1))

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--measure-install', action='store_true', help='re-measure install sizes (needs the libraries installed)')
    ap.add_argument('--eval-ours', action='store_true', help='evaluate models/recognizer.pth on LFW (when it exists and changed)')
    ap.add_argument('--save', action='store_true', help='copy the result files to bench/results/')
    ap.add_argument('--json', action='store_true', help='print the rows as JSON instead of markdown')
    a = ap.parse_args(argv)
    if a.measure_install: measure_install()
    if a.eval_ours:
        model = ROOT/'models'/'recognizer.pth'; ours, _ = load('ours_lfw')
        if model.exists() and not same_model(ours, model): eval_ours(model)
    if a.save: save_copies()
    rows, notes = build()
    if a.json: print(json.dumps(rows, indent=1)); return 0
    print(markdown(rows)); print()
    pipe = (load('bench')[0] or {}).get('pipeline', {})
    if 'n_faces' in pipe: faces = f" ({pipe['n_faces']} faces in {pipe['n_photos']} photos; embedder {pipe['embedder']})"
    else:   # results made before the bench's JSON was used: parse its printout of the time
        m = re.search(r'pipeline, batches of \d+:.*\((\d+) faces\)', pipe.get('output', ''))
        n_ph = re.search(r'^(\d+) LFW photos', pipe.get('output', ''))
        faces = f" ({m.group(1)} faces in {n_ph.group(1)} photos)" if m and n_ph else ''
    print("- every speed at one thread (OMP_NUM_THREADS=1) on a shared 2-core CPU (load average in each result file); "
          f"our pipeline embeds every face MTCNN finds{faces}, dlib's chain only the central one; "
          "the aligner and dlib 68-point rows time landmarks on 80x80 crops, the MTCNN row its detection on 250x250 photos")
    n_lm = (load('landmarks')[0] or {}).get('n_faces', '?')
    print(f"- landmark NME: % of the inter-ocular distance on the {n_lm} landmarks5 validation faces, over the faces found; "
          "fail: NME > 10% or no face found")
    for n in notes: print(f"- {n}")
    return 0

if __name__ == '__main__': sys.exit(main())
