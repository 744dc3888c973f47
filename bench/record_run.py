"""One record in bench/results for a finished `train-recognizer` run and its `eval-lfw --json` output.

The `cpu_recipe_*` records (README, bench/README) hold: the training command, the evaluation command, the machine,
the run's config and per-epoch history, the full-LFW result and the summed epoch times. Usage:

  python bench/record_run.py outputs/cpu_r18_aug outputs/logs/cpu_r18_aug_eval.json \
    --command "face-research train-recognizer ..." --note "what it tests" --out bench/results/cpu_recipe_r18_aug_amx.json
"""
import argparse, json, os, sys, time
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from face_research.core import amp_speeds_up, write_atomic


def machine()->str:
    "CPU model, thread count and whether training ran in bf16 (where `amp_speeds_up` says it pays)"
    cpu = [l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')] if os.path.exists('/proc/cpuinfo') else []
    name = cpu[0] if cpu else 'unknown CPU'
    return f"{len(cpu) or os.cpu_count()}-core {name}, {torch.get_num_threads()} threads, " + \
           ('bf16 autocast (amp auto) + channels_last' if amp_speeds_up('cpu') else 'fp32')


def history(run:Path)->list:
    "Per-epoch rows of every stage, in order (stage name added when there are several)"
    stages = sorted(p.parent for p in run.glob('*/history.jsonl'))
    rows = []
    for s in stages:
        for l in (s/'history.jsonl').read_text().splitlines():
            r = json.loads(l)
            if len(stages) > 1: r['stage'] = s.name
            rows.append(r)
    return rows


def record(run, eval_json, command:str, note:str='')->dict:
    run = Path(run); cfg = json.loads((run/'config.json').read_text())
    h = history(run)
    if not h: raise ValueError(f"{run}: no history.jsonl rows (not a finished train-recognizer run?)")
    ev = json.loads(Path(eval_json).read_text())
    if not ev.get('flip'): raise ValueError(f"{eval_json}: not an `eval-lfw --flip` result")
    model = run/'recognizer.pth'
    return dict(command=command, eval_command=f"face-research eval-lfw --model {model} --aligned data/aligned/lfw --flip --json",
                machine=machine(), date=time.strftime('%Y-%m-%d'), note=note, config=cfg, history=h, lfw_final_flip=ev,
                wall_minutes_sum_of_epochs=round(sum(r.get('seconds', 0) for r in h) / 60, 1))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('run'); p.add_argument('eval_json')
    p.add_argument('--command', required=True, help='the training command, as documented')
    p.add_argument('--note', default='')
    p.add_argument('--out', required=True)
    a = p.parse_args(argv)
    r = record(a.run, a.eval_json, a.command, a.note)
    write_atomic(a.out, lambda t: Path(t).write_text(json.dumps(r, indent=1)))
    last = r['history'][-1]
    print(f"{a.out}: LFW {100 * r['lfw_final_flip']['lfw_accuracy']:.2f}% +- {100 * r['lfw_final_flip']['lfw_accuracy_std']:.2f}, "
          f"held-out {last.get('cos_acc', last.get('accuracy'))}, kNN {last.get('knn_acc')}, {r['wall_minutes_sum_of_epochs']} min")


if __name__ == '__main__':
    main()
