"""Does a linear post-projection fitted on the training set (CelebA) lift LFW accuracy?

Classic face-verification post-processing (centring, WCCN within-class whitening, LDA; as in
the Joint-Bayesian / i-vector era) fitted on embeddings of the *training* faces, then applied to
LFW. Hyper-parameters are chosen on CelebA identities held out from the fit (LFW is only
measured, never used to choose); every candidate's LFW figure is reported next to it.

    FACE_DATA=../shared/data .venv/bin/python bench/post_projection.py \
        --lfw-cache outputs/cache/lfw-emb-...aligned...npz --save

`--lfw-cache` is the embedding cache `face-research eval-lfw --aligned DIR --flip` wrote (flip-fused
unit embeddings of the LFW crops); the CelebA embeddings (flip-fused, same model) are computed
once (about 20 min on 2 CPU cores) and cached in outputs/cache/.
"""
from __future__ import annotations
import argparse, json, os, sys, time
from pathlib import Path
import numpy as np
from scipy.linalg import eigh
from sklearn.metrics import roc_curve

def unit(a): return a / np.linalg.norm(a, axis=1, keepdims=True)

def class_stats(X, ids):
    "(mean, within-class scatter, total scatter) of embeddings `X` with labels `ids`"
    mu = X.mean(0); _, inv, cnt = np.unique(ids, return_inverse=True, return_counts=True)
    cm = np.zeros((len(cnt), X.shape[1])); np.add.at(cm, inv, X); cm /= cnt[:, None]   # class means, no loop over classes
    R = X - cm[inv]
    return mu, R.T @ R / len(X), np.cov((X - mu).T, bias=True)

def reg(S, lam): return S + lam * np.trace(S) / len(S) * np.eye(len(S))
def wccn(Sw, lam):
    w, V = np.linalg.eigh(reg(Sw, lam)); return V @ np.diag(w ** -0.5) @ V.T
def lda(Sw, St, k, lam):
    w, V = eigh(St - Sw, reg(Sw, lam)); return V[:, ::-1][:, :k]   # leading discriminant directions

def candidates(X, ids, max_k):
    mu, Sw, St = class_stats(X, ids)
    c = {'raw': (np.zeros(X.shape[1]), np.eye(X.shape[1])), 'centred': (mu, np.eye(X.shape[1]))}
    for lam in (0.01, 0.1, 0.3, 1.0): c[f'wccn lam={lam}'] = (mu, wccn(Sw, lam))
    for k in (64, 128, 200, max_k):
        for lam in (0.1, 0.3, 1.0): c[f'lda k={k} lam={lam}'] = (mu, lda(Sw, St, k, lam))
    return c

def tar_all_pairs(Z, ids, far=1e-2):
    Z = unit(Z); iu = np.triu_indices(len(Z), 1)
    s = (Z @ Z.T)[iu]; y = (ids[:, None] == ids[None])[iu]
    fpr, tpr, _ = roc_curve(y, s); return float(tpr[fpr <= far].max())

def celeba_embeddings(model, folder, cache):
    from face_research.embedder import Embedder
    from face_research.core import read_image
    from face_research.pipeline import _file_id
    from face_research.metrics import write_npz
    from face_research.data import identity_folders
    df = identity_folders(folder); paths = df.path.tolist()        # skips align-dataset's debug/ overlays
    rel = [str(Path(x).relative_to(Path(folder).resolve())) for x in paths]
    mid = _file_id(model) + '|flip'
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        if str(z['model_id']) == mid and list(z['paths']) == rel: return z['emb'], z['ids']
    E = Embedder(model, device='cpu', flip=True); out = []
    for i in range(0, len(paths), 256):
        out.append(E.embed(np.stack([read_image(p) for p in paths[i:i + 256]]))); print(f"  {i + 256}/{len(paths)}", file=sys.stderr, flush=True)
    emb, ids = np.concatenate(out), df.identity.to_numpy().astype(str)
    write_npz(cache, model_id=np.array(mid), paths=np.array(rel), ids=ids, emb=emb)
    return emb, ids

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', default='models/recognizer_r34.pth')   # a single network (the ensemble default has no one head)
    p.add_argument('--celeba', default='data/aligned/celeba', help='aligned training faces, <identity>/<image>')
    p.add_argument('--lfw-cache', required=True, help='eval-lfw embedding cache (.npz) of the same model, with --flip')
    p.add_argument('--data', default=None, help='LFW folder with pairs.txt (default: $FACE_DATA/lfw)')
    p.add_argument('--splits', type=int, default=5, help='random held-out-identity splits for the choice')
    p.add_argument('--save', action='store_true', help='write bench/results/post_projection.json')
    a = p.parse_args(argv)
    from face_research.core import face_data
    from face_research.data import lfw_pairs, lfw_image_root, lfw_images
    from face_research.metrics import lfw_10fold, tar_at_far, identification_rate, lfw_identification_split
    t0 = time.perf_counter()
    X, ids = celeba_embeddings(a.model, a.celeba, Path('outputs/cache')/f"celeba-emb-{Path(a.model).stem}.npz")
    X = X.astype(np.float64)
    # 1. choose on CelebA identities held out from the fit
    rng = np.random.default_rng(0); cl = np.unique(ids); n_val = len(cl) // 5; sel = {}
    for _ in range(a.splits):
        m = np.isin(ids, rng.choice(cl, n_val, replace=False))
        for n, (mu, W) in candidates(X[~m], ids[~m], len(cl) - n_val - 1).items():
            sel.setdefault(n.replace(f'k={len(cl) - n_val - 1}', 'k=max'), []).append(tar_all_pairs((X[m] - mu) @ W, ids[m]))
    sel = {k: float(np.mean(v)) for k, v in sel.items()}
    best = max(sel, key=sel.get)
    # 2. fit on all of CelebA, measure on LFW
    root = Path(a.data) if a.data else face_data('lfw'); img_root = lfw_image_root(root)
    pairs = lfw_pairs(Path(root)/'pairs.txt', img_root)
    q, d = lfw_identification_split(lfw_images(img_root), 10, 10)
    L = np.load(a.lfw_cache, allow_pickle=False); row = {s: i for i, s in enumerate(L['paths'])}
    r = lambda ps: [row[str(Path(x).relative_to(img_root))] for x in ps]
    E = L['emb'].astype(np.float64); same = pairs.same.to_numpy(bool); rows = []
    for n, (mu, W) in candidates(X, ids, len(cl) - 1).items():
        Z = unit((E - mu) @ W); sims = (Z[r(pairs.path1)] * Z[r(pairs.path2)]).sum(1)
        v = lfw_10fold(sims, same, pairs.fold.to_numpy())
        ir = identification_rate(Z[r(q.path)].astype(np.float32), q.name.to_numpy(), Z[r(d.path)].astype(np.float32), (0.1, 0.01))
        key = n.replace(f'k={len(cl) - 1}', 'k=max')
        rows.append(dict(projection=key, celeba_val_tar_at_far_1e2=sel[key], lfw_accuracy=v['accuracy'], lfw_accuracy_std=v['accuracy_std'],
                         tar_at_far_1e2=tar_at_far(sims, same)[0.01], tpr_at_fpr_0_1=ir.tprs[0], tpr_at_fpr_0_01=ir.tprs[1]))
    print(f"{'projection':22s} {'CelebA-val TAR':>14s} {'LFW acc':>8s} {'TAR@1e-2':>8s} {'TPR@.1':>7s} {'TPR@.01':>7s}")
    for x in rows:
        print(f"{x['projection']:22s} {x['celeba_val_tar_at_far_1e2']:14.4f} {x['lfw_accuracy']:8.4f} {x['tar_at_far_1e2']:8.3f} "
              f"{x['tpr_at_fpr_0_1']:7.3f} {x['tpr_at_fpr_0_01']:7.3f}{'  <- chosen on CelebA' if x['projection'] == best else ''}")
    res = dict(model=a.model, celeba_images=len(X), celeba_identities=len(cl), val_identities=n_val, splits=a.splits,
               chosen=best, rows=rows, seconds=time.perf_counter() - t0)
    if a.save:
        out = Path('bench/results/post_projection.json'); tmp = out.with_suffix('.tmp')
        tmp.write_text(json.dumps(res, indent=1)); os.replace(tmp, out)
    return 0

if __name__ == '__main__': sys.exit(main())
