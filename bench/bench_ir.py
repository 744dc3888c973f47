"""Benchmark of the identification rate (face_research.metrics).

The issue's target: 1,000 query images (100 identities x 10) against 1,000,000 distractors,
512-d float32, under 30 s and under 4 GB on the project's 2-core CPU machine.

Every variant runs in its own subprocess, which reports its wall time, CPU time and peak
resident memory (`resource.getrusage(RUSAGE_SELF).ru_maxrss`: everything the process held,
torch included, not only Python objects). Variants:

- `mm-only`: makes the rows, normalises them and computes every similarity block, nothing else:
  the floor of any exact method (all 10^9 similarities must be computed).
- `fast-gen`: `identification_rate` over distractors made on demand, 64 rows at a time from a
  per-chunk seed (`RandomUnitRows`): the 2 GB distractor matrix never exists, so the peak is the
  algorithm's own. The time includes making the rows; `gen-only` times making them alone.
- `fast-mat`: the same distractors first materialised as one (M, 512) float32 array (2 GB, made
  before the clock starts, its memory counted in the peak).
- `naive` / `fast-small`: the course's functions (every similarity materialised, negatives sorted
  for each FPR) against `identification_rate`, on a smaller set where the former finishes, with a
  check that both give the same thresholds and TPRs.

Data: 100 identity centres, query embeddings = centre + Gaussian noise (so positives are far
above the bulk of the negatives), distractors = standard Gaussian vectors; all L2-normalised.

Usage (from the repo root):
    .venv/bin/python bench/bench_ir.py                       # everything, all six FPRs at once
    .venv/bin/python bench/bench_ir.py --variants fast-gen --fprs 0.001
    .venv/bin/python bench/bench_ir.py --n-dist 100000 --small-dist 20000   # a quick run
"""
import argparse, json, os, resource, subprocess, sys, time

FPRS = [0.5, 0.2, 0.1, 0.05, 0.01, 0.001]


class RandomUnitRows:
    "A lazy (n, d) float32 array of Gaussian rows: chunk c of 64 rows comes from seed (seed, c)"
    chunk = 64

    def __init__(self, n, d, seed=1):
        self.shape, self.seed = (n, d), seed

    def _chunk(self, c):
        import torch
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + c)
        n = min(self.chunk, self.shape[0] - c * self.chunk)
        return torch.randn(n, self.shape[1], generator=g)

    def __len__(self): return self.shape[0]

    def __getitem__(self, idx):
        import numpy as np, torch
        if isinstance(idx, slice):
            a, b, step = idx.indices(self.shape[0])
            assert step == 1
            if b <= a: return np.zeros((0, self.shape[1]), np.float32)
            c0, c1 = a // self.chunk, (b - 1) // self.chunk
            t = torch.cat([self._chunk(c) for c in range(c0, c1 + 1)])
            return t[a - c0 * self.chunk: b - c0 * self.chunk].numpy()
        idx = np.asarray(idx)
        out = np.empty((len(idx), self.shape[1]), np.float32)
        for c in np.unique(idx // self.chunk):
            sel = np.flatnonzero(idx // self.chunk == c)
            out[sel] = self._chunk(int(c)).numpy()[idx[sel] - c * self.chunk]
        return out


def make_queries(n_ids, per_id, d, noise=2.5, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_ids, d)) / np.sqrt(d)
    labels = np.repeat(np.arange(n_ids), per_id)
    q = centers[labels] + noise * rng.normal(size=(len(labels), d)) / np.sqrt(d)
    return q.astype(np.float32), labels


def child(a):
    "Run one variant in this process and print one JSON line"
    import numpy as np, torch
    from face_research.metrics import identification_rate, compute_cosine_query_pos, compute_cosine_query_neg, \
        compute_cosine_query_distractors, compute_ir
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    q, labels = make_queries(a.ids, a.per_id, a.dim)
    out = dict(variant=a.variant, n_query=len(q), threads=torch.get_num_threads())
    cpu0, t0 = time.process_time(), time.perf_counter()
    if a.variant == 'gen-only':
        src = RandomUnitRows(a.n_dist, a.dim)
        rows = max(1, a.block_elems // len(q)); s = 0.
        for i in range(0, a.n_dist, rows): s += float(src[i:i + rows][:, 0].sum())
        out.update(n_dist=a.n_dist)
    elif a.variant == 'mm-only':   # the floor of any exact method: make the rows, normalise, matmul, nothing else
        from face_research.metrics import unit_rows
        src = RandomUnitRows(a.n_dist, a.dim); qt = unit_rows(q)
        rows = max(1, a.block_elems // len(q)); s = 0.
        for i in range(0, a.n_dist, rows): s += float((qt @ unit_rows(src[i:i + rows]).T)[0, 0])
        out.update(n_dist=a.n_dist)
    elif a.variant in ('fast-gen', 'fast-mat'):
        dist = RandomUnitRows(a.n_dist, a.dim)
        if a.variant == 'fast-mat':   # filled in place: the 2 GB array is the only copy
            mat = np.empty(dist.shape, np.float32)
            for i in range(0, a.n_dist, 65536): mat[i:i + 65536] = dist[i:i + 65536]
            dist = mat
            out['materialise_s'] = round(time.perf_counter() - t0, 2)
            cpu0, t0 = time.process_time(), time.perf_counter()
        r = identification_rate(q, labels, dist, a.fprs, block_elems=a.block_elems)
        out.update(n_dist=a.n_dist, n_neg=r.n_neg, passes=r.passes, thresholds=r.thresholds, tprs=r.tprs)
    elif a.variant in ('naive', 'fast-small'):
        dist = RandomUnitRows(a.small_dist, a.dim)[0:a.small_dist]
        cpu0, t0 = time.process_time(), time.perf_counter()
        if a.variant == 'naive':
            names = [f"q{i}" for i in range(len(q))]; qd = {}
            for n, l in zip(names, labels): qd.setdefault(int(l), []).append(n)
            pos = compute_cosine_query_pos(qd, names, q); neg = compute_cosine_query_neg(qd, names, q)
            dis = compute_cosine_query_distractors(q, dist)
            res = [compute_ir(pos, neg, dis, f) for f in a.fprs]
            out.update(thresholds=[t for t, _ in res], tprs=[p for _, p in res], n_neg=len(neg) + len(dis))
        else:
            r = identification_rate(q, labels, dist, a.fprs, block_elems=a.block_elems)
            out.update(thresholds=r.thresholds, tprs=r.tprs, n_neg=r.n_neg, passes=r.passes)
        out.update(n_dist=a.small_dist)
    out.update(wall_s=round(time.perf_counter() - t0, 2), cpu_s=round(time.process_time() - cpu0, 2),
               peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               rss_after_import_mb=round(rss0), load_avg=round(os.getloadavg()[0], 2))
    print(json.dumps(out), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--variants', nargs='*', default=['gen-only', 'mm-only', 'fast-gen', 'fast-mat', 'naive', 'fast-small'])
    ap.add_argument('--fprs', nargs='+', type=float, default=FPRS)
    ap.add_argument('--per-fpr', action='store_true', help='also run fast-gen once per FPR')
    ap.add_argument('--ids', type=int, default=100); ap.add_argument('--per-id', type=int, default=10)
    ap.add_argument('--dim', type=int, default=512)
    ap.add_argument('--n-dist', type=int, default=1_000_000)
    ap.add_argument('--small-dist', type=int, default=50_000, help='distractors for naive vs fast')
    ap.add_argument('--block-elems', type=int, default=2**22)
    ap.add_argument('--json', help='write all results to this file')
    ap.add_argument('--child', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child: a.variant = a.child; return child(a)
    runs = [(v, a.fprs) for v in a.variants]
    if a.per_fpr: runs += [('fast-gen', [f]) for f in a.fprs if [f] != list(a.fprs)]
    results = []
    for v, fprs in runs:
        cmd = [sys.executable, __file__, '--child', v, '--fprs', *map(str, fprs), '--ids', str(a.ids), '--per-id', str(a.per_id),
               '--dim', str(a.dim), '--n-dist', str(a.n_dist), '--small-dist', str(a.small_dist), '--block-elems', str(a.block_elems)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode: print(p.stderr, file=sys.stderr); raise SystemExit(f"variant {v} failed")
        r = json.loads(p.stdout.strip().splitlines()[-1]); r['fprs'] = fprs; results.append(r)
        print(f"{v:10s} fprs={','.join(map(str, fprs)):32s} wall {r['wall_s']:7.2f}s  cpu {r['cpu_s']:7.2f}s  "
              f"peak RSS {r['peak_rss_mb']:6d} MB (after imports {r['rss_after_import_mb']} MB)  load {r['load_avg']}", flush=True)
    by = {(r['variant'], tuple(r['fprs'])): r for r in results}
    nv, fs = by.get(('naive', tuple(a.fprs))), by.get(('fast-small', tuple(a.fprs)))
    if nv and fs:
        same = nv['thresholds'] == fs['thresholds'] and nv['tprs'] == fs['tprs']
        print(f"naive vs fast on {a.ids * a.per_id} x {a.small_dist}: speed-up x{nv['wall_s'] / fs['wall_s']:.1f} (wall), "
              f"memory {nv['peak_rss_mb']} vs {fs['peak_rss_mb']} MB, identical results: {same}")
    for key in [('fast-gen', tuple(a.fprs)), ('fast-mat', tuple(a.fprs))]:
        if key in by:
            r = by[key]
            print(f"{key[0]}: " + ', '.join(f"fpr {f}: thr {t:.4f} tpr {p:.4f}" for f, t, p in zip(a.fprs, r['thresholds'], r['tprs'])))
    if a.json:
        with open(a.json, 'w') as f: json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
