"""benchmarks/run.py: the quick CPU table runs in CI time and reports every family with finite rates."""
import importlib.util
import math
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def _module(path=RUN, name="bench_run"):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod                         # dataclasses look their module up here
    spec.loader.exec_module(mod)
    return mod


def test_quick_cpu_table(tmp_path, capsys):
    mod = _module()
    out = tmp_path / "b.json"
    assert mod.main(["--quick", "--device", "cpu", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    for fam in ("landscape (Jang/Kim)", "gradient flow (Xu)", "online SGD (Dayi)", "measured copy GB/s"):
        assert fam in text
    import json
    res = json.loads(out.read_text())
    assert len(res["rows"]) == 3
    for r in res["rows"]:
        assert r["naive_dev"] is None                 # (b) only exists on a non-CPU device
        for key in ("naive_cpu", "batched_dev", "speedup"):
            assert math.isfinite(r[key]) and r[key] > 0, (r["family"], key)
    lim = res["limits"]
    assert 0 < lim["gd_grad_GBps"] and 0 < lim["copy_GBps"] and 0 < lim["matmul_f64_TFLOPs"]
    # the landscape row certifies what it counts: every start ends at a certified SOSP here
    assert "24/24 certified" in res["rows"][0]["note"]


@pytest.mark.parametrize("argv", [["--device", "tpu"]])
def test_bad_device_is_exit_2(argv, capsys):
    assert _module().main(argv) == 2
    assert "unknown device" in capsys.readouterr().err


def test_falsification_benchmark_quick(capsys):
    """benchmarks/falsify_bench.py --quick: every mode falsifies the cheap controls, and the optimiser's
    overall rate is at least random generation's on the planted corners."""
    spec = importlib.util.spec_from_file_location("bench_falsify", RUN.parent / "falsify_bench.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--quick"]) == 0
    text = capsys.readouterr().out
    rows = {line.split("|")[1].strip(" `"): line for line in text.splitlines() if line.startswith("| `")}
    assert set(rows) >= {"planted.box_1pct", "planted.band_06pct", *mod.QUICK_CONTROLS}
    for cid in mod.QUICK_CONTROLS:
        assert rows[cid].count("100%") == 3, rows[cid]
    overall = text.split("Overall falsification rate: ")[1].splitlines()[0]
    counts = {part.split()[0]: int(part.split()[1].split("/")[0]) for part in overall.split(", ")}
    assert counts["optimiser"] >= counts["random"], overall


def test_quick_scaling_table_both_paths_certify_alike(capsys):
    """benchmarks/scaling.py --quick: the dense and the matrix-free path time every size and certify the same
    end points as global SOSPs (issue 17)."""
    mod = _module(RUN.parent / "scaling.py", "bench_scaling")
    res = mod.main(["--quick"])
    text = capsys.readouterr().out
    assert "| 8 | dense |" in text and "| 8 | matrix-free |" in text
    for name in ("dense", "matrix-free"):
        assert [m for m, _ in res["times"][name]] == [4, 8]
        assert all(s > 0 and math.isfinite(s) for _, s in res["times"][name])
        assert math.isfinite(res["exponent"][name])
    rows = [ln.split("|")[1:-1] for ln in text.splitlines() if ln.startswith("| 4 ") or ln.startswith("| 8 ")]
    assert {r[3].strip() for r in rows} == {"6/6"} and {r[4].strip() for r in rows} == {"6"}
    # the claim table: every claim at both sizes, formed and structured paths (realnet: structured only),
    # each evaluation passing (the oracle: converged), with a finite exponent per path
    claims = res["claims"]
    for name in mod.CLAIMS:
        assert [m for m, _ in claims["times"][(name, "structured")]] == [4, 8], name
        assert math.isfinite(claims["exponent"][(name, "structured")])
        assert ((name, "formed") in claims["times"]) == (not name.startswith("realnet")), name
    outcomes = [ln.split("|")[-2].strip() for ln in text.splitlines() if ln.startswith("| `")]
    assert len(outcomes) == 2 * len(mod.CLAIMS) and set(outcomes) <= {"pass", "converged"}, outcomes
