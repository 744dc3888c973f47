"""Benchmark of the identification rate (face_research.metrics).

The issue's target: 1,000 query images (100 identities x 10) against 1,000,000 distractors,
512-d float32, under 30 s and under 4 GB on the project's 2-core CPU machine.

Every variant runs in its own subprocess, which reports its wall time, CPU time and peak
resident memory (`resource.getrusage(RUSAGE_SELF).ru_maxrss`: everything the process held,
torch included, not only Python objects). Variants:

- `mm-only`: makes the rows, normalises them and computes every similarity block, nothing else, with
  torch's intra-op threads on blocks of `--old-block-elems` (what the first version did): the floor of
  any exact method (all 10^9 similarities must be computed).
- `mm-par`: the same work as `identification_rate` does it now (rows read in the main thread, then
  normalised and multiplied by `workers` single-threaded workers, blocks of `--block-elems`), nothing
  else: the floor of the current pipeline.
- `old-gen`: the first version of the selection (bucketize against the window edges, intra-op
  threads, blocks of `--old-block-elems`), kept verbatim below as a reference, on the same distractors
  as `fast-gen`; its thresholds and TPRs are checked against `fast-gen`'s.
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

`--repeat N` runs the variant list N times over, interleaved (old, new, floor, old, new, ...), so that
a varying machine load hits them alike; each line shows the 1-minute load average at the child's end.

Usage (from the repo root):
    .venv/bin/python bench/bench_ir.py                       # everything, all six FPRs at once
    .venv/bin/python bench/bench_ir.py --variants old-gen fast-gen mm-par mm-only --repeat 2   # old vs new
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


def install_old_engine(M):
    "Replace `face_research.metrics._select_desc` by the first version's (bucketize against the window edges)"
    import numpy as np, torch
    _window, _merge, _locate, _key, _unkey, _Stats = M._window, M._merge, M._locate, M._key, M._unkey, M._Stats
    def _pass(src, edges:torch.Tensor, collect:torch.Tensor, prefilter:bool, budget:int, st:_Stats):
        "Counts of the negatives in each bucket `(edges[i-1], edges[i]]`, and the values of the buckets flagged in `collect` (None past `budget`)"
        dev = edges.device; nb = len(edges) + 1; lo0 = float(edges[0])
        odd = torch.equal(collect, torch.arange(nb) % 2 == 1)   # the first pass keeps the odd buckets: a cheap test
        lut = collect.to(dev)
        counts = torch.zeros(nb, dtype=torch.int64, device=dev); kept, nkept = ([] if bool(collect.any()) else None), 0
        st.passes += 1
        for blk in src.blocks():
            v = (blk() if callable(blk) else blk).reshape(-1)
            if prefilter: v = v[v > lo0]        # the lowest bucket is only counted
            if not len(v): continue
            b = torch.bucketize(v, edges, out_int32=True)
            counts += torch.bincount(b, minlength=nb)
            if kept is None: continue
            c = v[(b & 1).bool() if odd else lut[b.long()]]; nkept += len(c)
            if nkept > budget: kept = None
            else: kept.append(c)
        counts[0] += src.n - int(counts.sum())
        assert int(counts[0]) >= 0
        st.kept = max(st.kept, nkept)
        return counts.cpu(), (None if kept is None else torch.cat(kept) if kept else torch.zeros(0, device=dev))
    
    def _select_desc(src, # negatives source (see above)
                     ranks:list[int], # 0-based indices into the descending negatives
                     small:int=2**22, # at most this many negatives: gather and sort them all
                     budget:int=2**26, # most values kept in memory at once
                     pilot:int=2**22, # pilot sample size (values)
                     groups:int=8, # pilot groups
                     seed:int=0 # pilot sampling seed
                    )->tuple[list[float], _Stats]:
        "Exact values at `ranks` of the descending negatives, with bounded memory"
        st = _Stats(); n = src.n; dev = getattr(src, 'dev', 'cpu')
        if n <= small:
            st.passes = 1
            s = torch.sort(torch.cat([(b() if callable(b) else b).reshape(-1) for b in src.blocks()]), descending=True).values
            assert len(s) == n, (len(s), n)
            return [float(s[r]) for r in ranks], st
        # 1. pilot: a window (lo, hi] around each threshold; the first pass counts every bucket and keeps the windows
        sg = [torch.sort(v.reshape(-1), descending=True).values.cpu() for v in src.pilot(pilot, groups, np.random.default_rng(seed))]
        allp = torch.cat(sg)
        edges = [e for w in _merge([_window(sg, r, n) for r in ranks]) for e in w]
        collect = torch.zeros(len(edges) + 1, dtype=torch.bool); collect[1::2] = True
        # every rank's interval (A, B] in which it lies, its count and its rank inside
        tasks = [dict(i=i, A=-np.inf, B=np.inf, c=n, r=r) for i, r in enumerate(ranks)]
        out = [None] * len(ranks)
        while True:
            E = torch.tensor(edges, dtype=torch.float32, device=dev); En = np.array(edges, np.float32)
            # values at or below the lowest edge only count: drop them first when they are most of the data
            prefilter = len(allp) == 0 or float((allp > edges[0]).float().mean()) < 0.3
            counts, kept = _pass(src, E, collect, prefilter, budget, st)
            if kept is not None: kid = torch.bucketize(kept, E, out_int32=True)
            nxt = {}
            for t in tasks:
                i0 = 0 if t['A'] == -np.inf else int(np.searchsorted(En, t['A'])) + 1
                i1 = len(En) if t['B'] == np.inf else int(np.searchsorted(En, t['B']))
                j, rr = _locate(counts[i0:i1 + 1].flip(0), t['r']); i = i1 - j      # bucket (E[i-1], E[i]]
                A = -np.inf if i == 0 else float(En[i - 1]); B = np.inf if i == len(En) else float(En[i])
                if collect[i] and kept is not None:
                    ck = kept[kid == i]; assert len(ck) == int(counts[i])
                    out[t['i']] = float(torch.kthvalue(ck, len(ck) - rr).values)
                elif _key(B) - _key(A) == 1: out[t['i']] = B                    # a single float32 value
                else: nxt.setdefault((A, B), []).append(dict(i=t['i'], A=A, B=B, c=int(counts[i]), r=rr))
            tasks = [t for ts in nxt.values() for t in ts]
            if not tasks: return out, st
            # 2. refinement: keep the values of the intervals that fit the budget, split the others in 65,536 on the key scale
            st.refined += len(tasks)
            per = budget // len(nxt); edges, keep_b = set(), []      # kept values stay within the budget
            for (A, B), ts in nxt.items():
                ka, kb = _key(A), _key(B); W = kb - ka
                if ts[0]['c'] <= per: sub = [A, B]; keep_b.append(B)
                else: m = min(65536, W); sub = [_unkey(ka + -(-(j * W) // m)) for j in range(m + 1)]
                edges.update(x for x in sub if np.isfinite(x))
            edges = sorted(edges)
            collect = torch.zeros(len(edges) + 1, dtype=torch.bool)
            for B in keep_b: collect[len(edges) if B == np.inf else int(np.searchsorted(np.array(edges, np.float32), B))] = True
    def wrapper(src, ranks, workers=1, grid=True, **kw): return _select_desc(src, ranks, **kw)
    M._select_desc = wrapper


def child(a):
    "Run one variant in this process and print one JSON line"
    import numpy as np, torch
    from face_research.metrics import identification_rate, compute_cosine_query_pos, compute_cosine_query_neg, \
        compute_cosine_query_distractors, compute_ir
    import face_research.metrics as M
    if a.variant == 'old-gen': install_old_engine(M)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    q, labels = make_queries(a.ids, a.per_id, a.dim)
    out = dict(variant=a.variant, n_query=len(q), threads=torch.get_num_threads())
    cpu0, t0 = time.process_time(), time.perf_counter()
    if a.variant == 'gen-only':
        src = RandomUnitRows(a.n_dist, a.dim)
        rows = max(1, a.old_block_elems // len(q)); s = 0.
        for i in range(0, a.n_dist, rows): s += float(src[i:i + rows][:, 0].sum())
        out.update(n_dist=a.n_dist)
    elif a.variant == 'mm-only':   # the floor of any exact method: make the rows, normalise, matmul, nothing else
        from face_research.metrics import unit_rows
        src = RandomUnitRows(a.n_dist, a.dim); qt = unit_rows(q)
        rows = max(1, a.old_block_elems // len(q)); s = 0.
        for i in range(0, a.n_dist, rows): s += float((qt @ unit_rows(src[i:i + rows]).T)[0, 0])
        out.update(n_dist=a.n_dist)
    elif a.variant == 'mm-par':    # the same, as identification_rate now runs it: workers, one thread each
        src = M._QuerySource(M.unit_rows(q), labels, RandomUnitRows(a.n_dist, a.dim), bk(a), 'cpu')
        s = sum(r for r in M._run(src, lambda b: float(b.reshape(-1)[0]), torch.get_num_threads()))
        out.update(n_dist=a.n_dist, workers=torch.get_num_threads())
    elif a.variant in ('fast-gen', 'fast-mat', 'old-gen'):
        dist = RandomUnitRows(a.n_dist, a.dim)
        if a.variant == 'fast-mat':   # filled in place: the 2 GB array is the only copy
            mat = np.empty(dist.shape, np.float32)
            for i in range(0, a.n_dist, 65536): mat[i:i + 65536] = dist[i:i + 65536]
            dist = mat
            out['materialise_s'] = round(time.perf_counter() - t0, 2)
            cpu0, t0 = time.process_time(), time.perf_counter()
        r = identification_rate(q, labels, dist, a.fprs, block_elems=bk(a, a.old_block_elems if a.variant == 'old-gen' else None))
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
            r = identification_rate(q, labels, dist, a.fprs, block_elems=bk(a))
            out.update(thresholds=r.thresholds, tprs=r.tprs, n_neg=r.n_neg, passes=r.passes)
        out.update(n_dist=a.small_dist)
    out.update(wall_s=round(time.perf_counter() - t0, 2), cpu_s=round(time.process_time() - cpu0, 2),
               peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               rss_after_import_mb=round(rss0), load_avg=round(os.getloadavg()[0], 2))
    print(json.dumps(out), flush=True)


def bk(a, be=None):
    "`block_elems` for identification_rate: `be`, else --block-elems, else the library's default"
    if be or a.block_elems: return be or a.block_elems
    import inspect
    from face_research.metrics import identification_rate
    return inspect.signature(identification_rate).parameters['block_elems'].default


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--variants', nargs='*', default=['gen-only', 'mm-only', 'mm-par', 'old-gen', 'fast-gen', 'fast-mat', 'naive', 'fast-small'])
    ap.add_argument('--fprs', nargs='+', type=float, default=FPRS)
    ap.add_argument('--per-fpr', action='store_true', help='also run fast-gen once per FPR')
    ap.add_argument('--ids', type=int, default=100); ap.add_argument('--per-id', type=int, default=10)
    ap.add_argument('--dim', type=int, default=512)
    ap.add_argument('--n-dist', type=int, default=1_000_000)
    ap.add_argument('--small-dist', type=int, default=50_000, help='distractors for naive vs fast')
    ap.add_argument('--block-elems', type=int, default=None, help="identification_rate's block_elems (default: its own)")
    ap.add_argument('--old-block-elems', type=int, default=2**22, help='blocks of old-gen, mm-only and gen-only')
    ap.add_argument('--repeat', type=int, default=1, help='run the variant list this many times, interleaved')
    ap.add_argument('--json', help='write all results to this file')
    ap.add_argument('--child', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child: a.variant = a.child; return child(a)
    runs = [(v, a.fprs) for _ in range(a.repeat) for v in a.variants]
    if a.per_fpr: runs += [('fast-gen', [f]) for f in a.fprs if [f] != list(a.fprs)]
    results = []
    for v, fprs in runs:
        cmd = [sys.executable, __file__, '--child', v, '--fprs', *map(str, fprs), '--ids', str(a.ids), '--per-id', str(a.per_id),
               '--dim', str(a.dim), '--n-dist', str(a.n_dist), '--small-dist', str(a.small_dist), '--old-block-elems', str(a.old_block_elems)]
        if a.block_elems: cmd += ['--block-elems', str(a.block_elems)]
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
    F = [r for r in results if r['variant'] == 'fast-gen' and r['fprs'] == list(a.fprs)]
    O = [r for r in results if r['variant'] == 'old-gen' and r['fprs'] == list(a.fprs)]
    for v in ['old-gen', 'fast-gen', 'mm-par', 'mm-only']:
        w = sorted(r['wall_s'] for r in results if r['variant'] == v and r['fprs'] == list(a.fprs))
        if len(w) > 1: print(f"{v}: wall over {len(w)} runs: min {w[0]:.2f}s, median {w[len(w) // 2]:.2f}s, max {w[-1]:.2f}s")
    if F and O:
        same = all(o['thresholds'] == F[0]['thresholds'] and o['tprs'] == F[0]['tprs'] for o in O + F)
        print(f"old-gen vs fast-gen: identical thresholds and TPRs: {same}")
    for key in [('fast-gen', tuple(a.fprs)), ('fast-mat', tuple(a.fprs))]:
        if key in by:
            r = by[key]
            print(f"{key[0]}: " + ', '.join(f"fpr {f}: thr {t:.4f} tpr {p:.4f}" for f, t, p in zip(a.fprs, r['thresholds'], r['tprs'])))
    if a.json:
        with open(a.json, 'w') as f: json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
