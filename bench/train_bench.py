#!/usr/bin/env python3
"""Training speed and accuracy: strata train against PyTorch 1.13 (Debian).

LeNet-300-100 (MLP) and LeNet-5 (CNN) from examples/, on Fashion-MNIST
(Debian's dataset-fashion-mnist), batch 64, SGD lr 0.05 momentum 0.9, the
same initial weights, N epochs, at each thread count. Time per epoch is the
training loop only (evaluation excluded) for both; the table shows the best
and the median epoch time over all epochs (with --rounds R, over R runs of
each, alternating strata and PyTorch: on a machine whose load swings, the
best is the least disturbed measure), PyTorch's time divided by strata's,
and the test accuracy after the last epoch. With --seeds S1,S2,..., each
round trains once per shuffling seed (both systems see the same sample
order for a seed) and the accuracies are the mean over the seeds, listed
per seed below the table: the two runs' sums differ in order, so their
accuracies drift apart by chance, and one seed shows only one draw of it.
Prints a markdown table.

  python3 bench/train_bench.py --strata build/bin/strata --examples build/examples \\
      [--epochs 3] [--threads 1,2] [--nets mlp,lenet] [--rounds R] [--seeds 0,1,2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

DATA = "/usr/share/datasets/fashion-mnist"
TORCH_PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


def strata_run(args, net, threads, tmp, seed):
    metrics = os.path.join(tmp, f"{net}-{threads}.csv")
    out = subprocess.run([args.strata, "train", os.path.join(args.examples, net + ".onnx"),
                          "--data", DATA, "--epochs", str(args.epochs), "--batch", "64",
                          "--optimizer", "sgd(lr=0.05,momentum=0.9)", "--threads", str(threads),
                          "--seed", str(seed),
                          "--metrics", metrics, "-o", os.path.join(tmp, f"{net}.onnx")],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"strata train failed:\n{out.stderr}")
    rows = [l.split(",") for l in open(metrics).read().splitlines()[1:]]
    return [{"epoch_s": float(r[3]), "test_accuracy": float(r[2]), "loss": float(r[1])} for r in rows]


def torch_run(args, net, threads, seed):
    out = subprocess.run([TORCH_PYTHON, os.path.join(HERE, "torch_train.py"),
                          os.path.join(args.examples, net + ".onnx"), net, DATA, str(args.epochs),
                          "64", "0.05", "0.9", str(threads), str(seed)], capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr.strip().splitlines()[-1]
    return [json.loads(l) for l in out.stdout.splitlines()], None


def best_and_median(times):
    times = sorted(times)
    return times[0], times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strata", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--nets", default="mlp,lenet")
    ap.add_argument("--rounds", type=int, default=1,
                    help="train R times with each, alternating strata and PyTorch; epoch times "
                         "are the best and the median over all R x epochs (for noisy machines)")
    ap.add_argument("--seeds", default="0",
                    help="shuffling seeds, comma-separated: each round trains once per seed; "
                         "accuracies are the mean over the seeds (default 0)")
    args = ap.parse_args()
    if not os.path.isdir(DATA):
        raise SystemExit(f"{DATA} is missing: apt install dataset-fashion-mnist")
    names = {"mlp": "LeNet-300-100 (MLP)", "lenet": "LeNet-5 (CNN)"}
    acc = "test acc." if args.seeds.count(",") == 0 else "test acc. (mean over seeds)"
    print(f"| network | threads | strata s/epoch, best (median) | PyTorch s/epoch, best (median) | "
          f"speed-up, best (median) | strata {acc} | PyTorch {acc} |")
    print("|---|---|---|---|---|---|---|")
    seeds = [int(x) for x in args.seeds.split(",")]
    per_seed = []
    mean = lambda xs: sum(xs) / len(xs)
    with tempfile.TemporaryDirectory() as tmp:
        for net in args.nets.split(","):
            for threads in [int(t) for t in args.threads.split(",")]:
                s_times, t_times, why = [], [], None
                s_acc, t_acc = {}, {}
                for _ in range(args.rounds):
                    for seed in seeds:
                        s = strata_run(args, net, threads, tmp, seed)
                        s_times += [e["epoch_s"] for e in s]
                        s_acc[seed] = s[-1]["test_accuracy"]
                        t, why = torch_run(args, net, threads, seed)
                        if t is not None:
                            t_times += [e["epoch_s"] for e in t]
                            t_acc[seed] = t[-1]["test_accuracy"]
                sb, sm = best_and_median(s_times)
                sa = mean(list(s_acc.values()))
                if not t_times:
                    print(f"| {names[net]} | {threads} | {sb:.2f} ({sm:.2f}) | n/a ({why}) | | "
                          f"{sa:.4f} | |")
                    continue
                tb, tm = best_and_median(t_times)
                ta = mean(list(t_acc.values()))
                print(f"| {names[net]} | {threads} | {sb:.2f} ({sm:.2f}) | {tb:.2f} ({tm:.2f}) | "
                      f"{tb / sb:.1f}x ({tm / sm:.1f}x) | "
                      f"{sa:.4f} | {ta:.4f} |", flush=True)
                per_seed.append((names[net], threads, s_acc, t_acc))
    if len(seeds) > 1:
        print("\nTest accuracy per seed (strata / PyTorch):\n")
        print("| network | threads | " + " | ".join(f"seed {x}" for x in seeds) + " |")
        print("|---|---|" + "---|" * len(seeds))
        for name, threads, s_acc, t_acc in per_seed:
            cells = [f"{s_acc[x]:.4f} / {t_acc[x]:.4f}" if x in t_acc else f"{s_acc[x]:.4f} / n/a"
                     for x in seeds]
            print(f"| {name} | {threads} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
