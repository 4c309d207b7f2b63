"""What the export scripts share: the bundled models' weights and splits, ONNX Runtime on a
split, and models/onnx/exports.json. numpy and onnxruntime only, so that export_keras.py runs
in an environment without torch."""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
EXPERIMENTS = os.path.dirname(HERE)
REPO = os.path.dirname(EXPERIMENTS)
OUT = os.path.join(REPO, "models", "onnx")
MANIFEST = os.path.join(OUT, "exports.json")


def load_weights(model_dir):
    """models/NAME/model.json and its float32 constants by name."""
    with open(os.path.join(model_dir, "model.json")) as f:
        spec = json.load(f)
    arrays = {name: np.load(os.path.join(model_dir, rel)) for name, rel in spec["constants"].items()}
    return spec, arrays


def split(dataset, name):
    d = os.path.join(REPO, "data", dataset)
    return np.load(os.path.join(d, f"{name}_x.npy")), np.load(os.path.join(d, f"{name}_y.npy"))


def reference_logits(name):
    return np.load(os.path.join(REPO, "models", name, "reference", "test_logits.npy"))


def run_ort(path, x):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})[0]


def describe(path, name, dataset, exporter, logits, y, spec, reference):
    """Saves ONNX Runtime's logits beside the file; its exports.json entry."""
    stem = os.path.basename(path).removesuffix(".onnx")
    np.save(os.path.join(OUT, f"{stem}.ort-logits.npy"), np.ascontiguousarray(logits, "<f4"))
    model = onnx.load(path)
    entry = {
        "model": f"models/{name}", "dataset": f"data/{dataset}", "split": "test", "exporter": exporter,
        "opset": next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
        "ops": sorted({n.op_type for n in model.graph.node}),
        "ort_logits": f"{stem}.ort-logits.npy", "ort_test_accuracy": float(np.mean(np.argmax(logits, axis=1) == y)),
        "recorded_test_accuracy": spec["training"]["float_test_accuracy"],
        "max_abs_ort_minus_reference": float(np.max(np.abs(logits - reference))),
    }
    print(f"models/onnx/{stem}.onnx: opset {entry['opset']}, {os.path.getsize(path)} bytes, "
          f"ORT test accuracy {entry['ort_test_accuracy']:.4f} (recorded {entry['recorded_test_accuracy']:.4f}), "
          f"max |ORT - reference| {entry['max_abs_ort_minus_reference']:.2e}")
    return entry


def write_manifest(files, versions):
    """Merges `files` (file name -> entry) and the top-level `versions` into exports.json."""
    manifest = {"files": {}}
    if os.path.exists(MANIFEST):
        with open(MANIFEST) as f:
            manifest = json.load(f)
    manifest.update(versions)
    manifest["files"].update(files)
    with open(MANIFEST, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
