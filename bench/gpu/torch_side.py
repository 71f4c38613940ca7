#!/usr/bin/env python3
"""PyTorch side of the GPU benchmark (bench/gpu/run.sh runs it; see BENCHMARKS.md).

For each model: build it with random weights, re-estimate BatchNorm statistics on random data,
check that its outputs have a sensible magnitude, export it to ONNX (dynamic batch), and for each
batch size save an input and PyTorch's reference output (FP32, TF32 off) as .npy for vkrt's
agreement check. Then time the peers on the same GPU in the same run: PyTorch eager (cudnn.benchmark,
channels_last for the CNNs; FP32 with TF32 off, and FP16), PyTorch with CUDA graphs (FP32, FP16),
torch.compile (inductor, mode max-autotune, which also captures CUDA graphs; FP32, FP16; skipped
with --no-compile) and onnxruntime on the CPU (small batches only, for scale). Writes
<work>/torch.json.

    python3 bench/gpu/torch_side.py --work /tmp/vkrt-gpu-bench --models resnet50,bert --batches 1,32
"""
import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch

IMAGE_MODELS = ("resnet50", "mobilenetv2", "googlenet")
SEQ = 128


def log(*a):
    print("[torch]", *a, file=sys.stderr, flush=True)


def build(name):
    """A model with random weights (seeded), in eval mode on the GPU, and its input spec."""
    torch.manual_seed(0)
    if name in IMAGE_MODELS:
        import torchvision

        if name == "resnet50":
            m = torchvision.models.resnet50(weights=None)
        elif name == "mobilenetv2":
            m = torchvision.models.mobilenet_v2(weights=None)
        else:
            m = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True)
        return m.cuda(), {"name": "input", "dtype": "float32", "shape": [3, 224, 224]}
    if name == "bert":
        from transformers import BertConfig, BertModel

        cfg = BertConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                         max_position_embeddings=512, vocab_size=30522)
        try:
            m = BertModel(cfg, add_pooling_layer=False, attn_implementation="eager")
        except TypeError:
            cfg._attn_implementation = "eager"
            m = BertModel(cfg, add_pooling_layer=False)
        return m.cuda(), {"name": "input_ids", "dtype": "int64", "shape": [SEQ]}
    raise SystemExit(f"unknown model '{name}' (known: {', '.join(IMAGE_MODELS + ('bert',))})")


class Wrapped(torch.nn.Module):
    """One tensor in, one tensor out (BERT: last_hidden_state), so export and timing treat all models alike."""

    def __init__(self, m, bert):
        super().__init__()
        self.m, self.bert = m, bert

    def forward(self, x):
        if self.bert:
            return self.m(input_ids=x).last_hidden_state
        return self.m(x)


def make_input(spec, batch, seed, device="cuda"):
    g = torch.Generator(device="cpu").manual_seed(seed)
    if spec["dtype"] == "int64":
        return torch.randint(0, 30522, [batch] + spec["shape"], generator=g, dtype=torch.int64).to(device)
    return torch.randn([batch] + spec["shape"], generator=g).to(device)


def recalibrate_bn(model, spec):
    """Random weights make activations shrink or blow up with depth; batch statistics on random inputs
    (cumulative average over several batches) put every BN output back near unit variance."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return 0
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.no_grad():
        for i in range(8):
            model(make_input(spec, 32, 1000 + i))
    model.eval()
    return len(bns)


def magnitude(t):
    t = t.float()
    return {"mean": t.mean().item(), "std": t.std().item(), "absmax": t.abs().max().item(),
            "finite": bool(torch.isfinite(t).all().item())}


def timed(fn, inputs, warmup, iters, budget_s):
    """Per-iteration latency in ms from CUDA events around each call (launch gaps included), inputs rotated."""
    for i in range(warmup):
        fn(inputs[i % len(inputs)])
    torch.cuda.synchronize()
    ms = []
    t_end = time.perf_counter() + budget_s
    for i in range(iters):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        x = inputs[i % len(inputs)]
        s.record()
        fn(x)
        e.record()
        e.synchronize()
        ms.append(s.elapsed_time(e))
        if time.perf_counter() > t_end and len(ms) >= 5:
            break
    return summary(ms)


def summary(ms):
    s = sorted(ms)
    return {"median_ms": statistics.median(s), "p90_ms": s[min(len(s) - 1, round(0.9 * (len(s) - 1)))], "runs": len(s)}


def graph_runner(model, example):
    """CUDA-graph replay: capture once on a static input; each call copies the input in (inside the timed region)."""
    static_in = example.clone()
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s), torch.no_grad():
        for _ in range(3):
            model(static_in)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g), torch.no_grad():
        static_out = model(static_in)

    def run(x):
        static_in.copy_(x)
        g.replay()
        return static_out

    return run


def export_onnx(model, spec, path):
    example = make_input(spec, 1, 1)
    kw = dict(input_names=[spec["name"]], output_names=["output"], opset_version=17,
              dynamic_axes={spec["name"]: {0: "batch"}, "output": {0: "batch"}})
    try:
        torch.onnx.export(model, (example,), path, dynamo=False, **kw)
    except TypeError:
        torch.onnx.export(model, (example,), path, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--models", default="resnet50,mobilenetv2,googlenet,bert")
    ap.add_argument("--batches", default="1,32,256")
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--budget", type=float, default=2.0, help="seconds per timed configuration at most")
    ap.add_argument("--ort-max-batch", type=int, default=1)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile peer (it compiles for minutes)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    torch.backends.cudnn.benchmark = True
    batches = [int(b) for b in a.batches.split(",") if b]
    props = torch.cuda.get_device_properties(0)
    out = {"device": torch.cuda.get_device_name(0), "sms": props.multi_processor_count,
           "torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
           "host_cpus": os.cpu_count(), "models": {}}
    try:
        import onnxruntime as ort
        out["onnxruntime"] = ort.__version__
    except ImportError:
        ort = None
    for name in [m for m in a.models.split(",") if m]:
        t0 = time.perf_counter()
        model, spec = build(name)
        nbn = recalibrate_bn(model, spec)
        bert = name == "bert"
        w = Wrapped(model, bert).eval()
        onnx_path = os.path.join(a.work, f"{name}.onnx")
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        with torch.no_grad():
            mag = magnitude(w(make_input(spec, 8, 7)))
        log(f"{name}: {nbn} BatchNorm layers re-estimated; output mean {mag['mean']:.3g} std {mag['std']:.3g} absmax {mag['absmax']:.3g}")
        if not mag["finite"] or not (1e-3 < mag["std"] < 1e4):
            raise SystemExit(f"{name}: output magnitude not sensible after BN re-estimation: {mag}")
        export_onnx(w, spec, onnx_path)
        entry = {"onnx": onnx_path, "input": spec, "bn_layers": nbn, "output_magnitude": mag,
                 "export_s": time.perf_counter() - t0, "batches": {}}
        out["models"][name] = entry
        for b in batches:
            x = make_input(spec, b, 100 + b)
            with torch.no_grad():
                ref = w(x).float()
            keep = min(b, 8)  # the check compares the first samples (BERT outputs are large)
            # PyTorch's own FP16 error on the same input: the yardstick for vkrt's FP16 check
            with torch.no_grad():
                h = Wrapped(copy.deepcopy(model).half(), bert).eval()(x if bert else x.half()).float()
            fp16_rel = ((h[:keep] - ref[:keep]).norm() / ref[:keep].norm()).item()
            del h
            np.save(os.path.join(a.work, f"{name}-b{b}-input.npy"), x.cpu().numpy())
            np.save(os.path.join(a.work, f"{name}-b{b}-ref.npy"), ref[:keep].cpu().numpy())
            entry["batches"][str(b)] = {"input": f"{name}-b{b}-input.npy", "ref": f"{name}-b{b}-ref.npy",
                                        "ref_samples": keep, "torch_fp16_rel": fp16_rel, "peers": {}}
        if a.no_peers:
            continue
        for b in batches:
            peers = entry["batches"][str(b)]["peers"]
            for prec in ("fp32", "fp16"):
                dt = torch.float16 if prec == "fp16" else torch.float32
                mf = Wrapped(model, bert).eval()
                if prec == "fp16":
                    mf = mf.half()
                if not bert:
                    mf = mf.to(memory_format=torch.channels_last)
                ins = []
                for k in range(4):
                    x = make_input(spec, b, 200 + k)
                    if not bert:
                        x = x.to(dt).contiguous(memory_format=torch.channels_last)
                    ins.append(x)
                kinds = ("eager", "graph") if a.no_compile else ("eager", "graph", "compile")
                for kind in kinds:
                    # a peer that cannot run a configuration is recorded as such, not fatal (e.g.
                    # transformers' mask code copies a CPU scalar, which CUDA graph capture refuses)
                    try:
                        with torch.no_grad():
                            if kind == "eager":
                                fn = mf
                            elif kind == "graph":
                                fn = graph_runner(mf, ins[0])
                            else:
                                # inductor with autotuned kernels and CUDA graphs: the strongest
                                # PyTorch peer; its compile time is excluded (warm-up runs compile)
                                fn = torch.compile(mf, mode="max-autotune", fullgraph=False, dynamic=False)
                            peers[f"torch_{kind}_{prec}"] = timed(fn, ins, 10, a.iters, a.budget)
                    except Exception as e:  # noqa: BLE001 - any failure of a peer is data, not fatal
                        peers[f"torch_{kind}_{prec}"] = {"error": str(e).split(chr(10))[0][:200]}
                        torch.cuda.synchronize()
                if prec == "fp16":
                    model.float()  # .half() converted the shared module in place
                log(f"{name} b{b} {prec}: eager {peers.get(f'torch_eager_{prec}')} graph {peers.get(f'torch_graph_{prec}')} compile {peers.get(f'torch_compile_{prec}')}")
                torch.cuda.empty_cache()
            if ort is not None and b <= a.ort_max_batch:
                so = ort.SessionOptions()
                sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
                feeds = [{spec["name"]: make_input(spec, b, 300 + k, "cpu").numpy()} for k in range(4)]
                for k in range(3):
                    sess.run(None, feeds[k % 4])
                ms = []
                t_end = time.perf_counter() + a.budget * 2
                for k in range(a.iters):
                    s = time.perf_counter()
                    sess.run(None, feeds[k % 4])
                    ms.append((time.perf_counter() - s) * 1e3)
                    if time.perf_counter() > t_end and len(ms) >= 5:
                        break
                peers["ort_cpu_fp32"] = summary(ms)
                log(f"{name} b{b} ort cpu: {peers['ort_cpu_fp32']}")
        del model, w
        torch.cuda.empty_cache()
    with open(os.path.join(a.work, "torch.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
