"""Where `make report`'s time goes: small-budget runs of each kind, with MKL's pinned path and without.

Run:  python benchmarks/study_run_time.py [--per-kind 3] [--repeats 1]     (about 7 minutes)

`make report` trains the reference study's small budget (``python train.py sweep all --budget
small``: 660 runs on 2 cores). This script takes ``--per-kind`` runs of each kind from the same plan
(seed 1, spread evenly over the grid of each study and trainer: H1's equilibrium and team lenses,
H2's two lenses, H3, H4) and trains them as a sweep worker does
(``train.py``'s ``main`` in-process, torch and SB3 already imported), in two worker processes:

* ``pinned``: ``MKL_CBWR=COMPATIBLE``, MKL's processor-independent path, which labrace selects by
  default so that a seed trains the same run on any x86 machine (README, "Same seed, same result");
* ``auto``: ``MKL_CBWR=AUTO``, MKL's fastest path on this processor, without that guarantee.

The workers take turns run by run (one busy core at a time: what each run costs alone), and each
run's figure is the best of ``--repeats``, so a slow spell of a shared machine cannot favour one
side. It prints the mean wall seconds of each kind's runs in both, the seconds of it spent
measuring exploitability (``labrace.agents.exploitability``), the ratio pinned / auto, and the plan's projected
worker-seconds per kind (runs of the kind x seconds): which runs dominate the report, and what the
pinned path costs it. The projection assumes every run of a kind costs the mean of those measured
(episode lengths differ by cell and seed, so it is an estimate; `make report`'s wall clock is the
measurement). The runs write into a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = {"pinned": "COMPATIBLE", "auto": "AUTO"}

#: a worker: imports train.py once, then trains the run whose arguments come on each stdin line and
#: answers a JSON line (wall seconds, of which measuring exploitability, exit code)
WORKER = r"""
import contextlib, io, json, sys, time
from labrace.agents import sweep
import labrace.agents.exploitability as module
measured = [0.0]
measure = module.exploitability
def timed(*args, **kwargs):  # train.py imports exploitability() where it measures: it finds this one
    start = time.perf_counter()
    try:
        return measure(*args, **kwargs)
    finally:
        measured[0] += time.perf_counter() - start
module.exploitability = timed
main = sweep._train_main(sys.argv[1])
for line in sys.stdin:
    measured[0] = 0.0
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(json.loads(line))
    print(json.dumps({"seconds": time.perf_counter() - start, "exploitability": measured[0], "code": code}), flush=True)
"""


def plan_kinds(seed: int, per_kind: int) -> tuple[dict[str, list[list[str]]], Counter]:
    """The train.py arguments of ``per_kind`` runs of seed ``seed`` per kind (study and trainer),
    spread evenly over the kind's grid points (episode lengths differ by
    cell), and the number of runs of each kind in the small budget's plan."""
    from labrace.agents import sweep
    from labrace.agents.studies import list_studies, load_study

    candidates: dict[str, list[list[str]]] = {}
    counts: Counter = Counter()
    for name in list_studies("small"):
        for run in sweep.plan(load_study(name), "small", Path("unused")):
            kind = f"{name} {run.expected['trainer']}"
            counts[kind] += 1
            if run.seed == seed:
                candidates.setdefault(kind, []).append(list(run.argv))
    missing = sorted(set(counts) - set(candidates))
    if missing:
        raise SystemExit(f"--seed {seed}: no run of {', '.join(missing)} has that seed in the small budget (seeds 0-9 are in every study)")
    picks = {}
    for kind, runs in candidates.items():
        k = min(per_kind, len(runs))
        picks[kind] = [runs[round(i * (len(runs) - 1) / max(k - 1, 1))] for i in range(k)]
    return picks, counts


def with_output(argv: list[str], out: Path, tag: str) -> list[str]:
    """The run's arguments, writing into ``out`` under a name of its own (no run is overwritten)."""
    kept = [a for a in argv if not a.startswith(("--out=", "--run-name="))]
    name = next(a for a in argv if a.startswith("--run-name=")).split("=", 1)[1]
    return [*kept, f"--out={out}", f"--run-name={name}-{tag}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="trainings of each run in each worker (the best counts)")
    parser.add_argument("--per-kind", type=int, default=3, help="runs of each kind, spread over its grid (their mean counts)")
    parser.add_argument("--seed", type=int, default=1, help="the seed of the runs taken from the plan")
    args = parser.parse_args()
    for option, value in (("--repeats", args.repeats), ("--per-kind", args.per_kind)):
        if value < 1:
            parser.error(f"{option} must be >= 1; got {value}")
    picks, counts = plan_kinds(args.seed, args.per_kind)
    best: dict[tuple[str, int, str], dict] = {}
    with tempfile.TemporaryDirectory(prefix="labrace-study-run-time-") as tmp:
        workers = {}
        for label, value in PATHS.items():
            env = {**os.environ, "MKL_CBWR": value}
            workers[label] = subprocess.Popen([sys.executable, "-c", WORKER, str(ROOT / "train.py")], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            for repeat in range(args.repeats):
                for kind, runs in picks.items():
                    for index, argv in enumerate(runs):
                        for label, worker in workers.items():
                            worker.stdin.write(json.dumps(with_output(argv, Path(tmp) / label, f"r{repeat}")) + "\n")
                            worker.stdin.flush()
                            answer = json.loads(worker.stdout.readline())
                            if answer["code"] != 0:
                                raise SystemExit(f"the {kind} run failed in the {label} worker (exit {answer['code']})")
                            if (kind, index, label) not in best or answer["seconds"] < best[kind, index, label]["seconds"]:
                                best[kind, index, label] = answer
                    print(f"  measured {kind} ({repeat + 1}/{args.repeats})", file=sys.stderr, flush=True)
        finally:
            for worker in workers.values():
                worker.stdin.close()
                worker.wait()
    print(f"Small-budget runs, wall seconds trained alone on one core: the mean over {args.per_kind} run(s) of each kind, each the best of {args.repeats}:\n")
    print("| kind | runs in the plan | pinned s | of which exploitability | auto s | pinned / auto | plan's worker-s, pinned | auto |")
    print("|---|---|---|---|---|---|---|---|")
    total = {label: 0.0 for label in PATHS}
    for kind, runs in picks.items():
        pinned, auto = ({key: sum(best[kind, i, label][key] for i in range(len(runs))) / len(runs) for key in ("seconds", "exploitability")} for label in PATHS)
        total["pinned"] += counts[kind] * pinned["seconds"]
        total["auto"] += counts[kind] * auto["seconds"]
        print(f"| {kind} | {counts[kind]} | {pinned['seconds']:.2f} | {pinned['exploitability']:.2f} | {auto['seconds']:.2f} | {pinned['seconds'] / auto['seconds']:.2f} | {counts[kind] * pinned['seconds']:.0f} | {counts[kind] * auto['seconds']:.0f} |")
    runs = sum(counts.values())
    print(f"\nProjected for the {runs} runs: {total['pinned']:.0f} worker-seconds pinned, {total['auto']:.0f} auto (ratio {total['pinned'] / total['auto']:.2f});")
    print(f"on 2 workers about {total['pinned'] / 120:.0f} min pinned and {total['auto'] / 120:.0f} min auto, before setup and the report's analysis.")


if __name__ == "__main__":
    main()
