#!/usr/bin/python3
"""PyTorch peer for tinception's whole-trunk benchmark: torchvision's Inception v3 without
weights (timing does not depend on them), classifier head replaced by Identity so the run
stops at the pooled 2048 features, as `tinception bench` does at mixed10.

  torch_peer.py time --batch 1,8 --threads 1,2 --iterations 10   # TSV rows on stdout
  torch_peer.py export OUT.onnx                                    # the same model as ONNX
"""
import argparse
import statistics
import sys
import time

import torch
import torchvision


def features_model():
    model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    model.fc = torch.nn.Identity()  # stop at the pooled features; dropout is a no-op in eval
    return model.eval()


def time_model(batches, threads_list, iterations, warmup):
    model = features_model()
    for threads in threads_list:
        torch.set_num_threads(threads)
        for batch in batches:
            x = torch.rand(batch, 3, 299, 299, dtype=torch.float32)
            times = []
            with torch.no_grad():
                for _ in range(warmup):
                    model(x)
                for _ in range(iterations):
                    start = time.perf_counter()
                    model(x)
                    times.append(time.perf_counter() - start)
            ms_per_image = 1e3 * statistics.median(times) / batch
            print(f"pytorch\t{batch}\t{threads}\t{ms_per_image:.3f}", flush=True)


def export(path):
    model = features_model()
    x = torch.rand(1, 3, 299, 299, dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(model, x, path, input_names=["input"], output_names=["features"],
                          dynamic_axes={"input": {0: "n"}, "features": {0: "n"}}, opset_version=13)


def int_list(text):
    return [int(v) for v in text.split(",")]


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("time")
    t.add_argument("--batch", type=int_list, default=[1, 8])
    t.add_argument("--threads", type=int_list, default=[1, 2])
    t.add_argument("--iterations", type=int, default=10)
    t.add_argument("--warmup", type=int, default=2)
    e = sub.add_parser("export")
    e.add_argument("path")
    args = parser.parse_args()
    print(f"# torch {torch.__version__}, torchvision {torchvision.__version__}", file=sys.stderr)
    if args.command == "time":
        time_model(args.batch, args.threads, args.iterations, args.warmup)
    else:
        export(args.path)


if __name__ == "__main__":
    main()
