#!/usr/bin/env bash
# The real install, as a user gets it: build the wheel, install it (not editable) into a fresh virtualenv,
# and from a directory outside the source tree check that
#   - only `lora_claims` is importable (no top-level `theorems`, `strategies`, `report`);
#   - `lora-claims list` works and the package data (Kim fixtures, report template) are there;
#   - kim2025's fixture-replaying claims give the same ids, verdicts and margins as the editable install's;
#   - the example plugin (examples/lora-claims-example) installs, its theorem holds, its control is
#     falsified, and `reproduce` of its counterexample works from another directory;
#   - README's "Check your own theorem" commands run as written.
# Then the declared minimum versions (hypothesis, numpy, scipy, jinja2, matplotlib, torchdiffeq, and the [ray]
# extra's ray and redis) in a second virtualenv run a smoke subset, once in-process and once as Ray tasks on a
# local Ray instance (same ids, verdicts and margins; not example.eckart_young, whose margin is round-off that
# torch.linalg.lstsq's default CPU driver, gelsy, changes from call to call), and, where .ci/run started Redis, with the shared
# example database.  QUICK=1 skips the minimum-versions step.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/lora-claims-install.XXXXXX)"
PIP="--quiet --disable-pip-version-check"
echo "== install check in $WORK"

python -m pip wheel $PIP --no-deps -w "$WORK/dist" "$SRC" >/dev/null
WHEEL="$(ls "$WORK"/dist/lora_claims-*.whl)"
python - "$WHEEL" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
tops = sorted({n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))})
assert tops == ["lora_claims"], f"the wheel installs other top-level names: {tops}"
for data in ("lora_claims/strategies/fixtures/kim2025_spurious.json", "lora_claims/report/templates/report.html.j2"):
    assert data in names, f"package data missing from the wheel: {data}"
print(f"wheel: {len(names)} files, top level {tops}, package data present")
PY

python -m venv "$WORK/venv"
V="$WORK/venv/bin"
"$V/python" -m pip install $PIP torch==2.13.0
"$V/python" -m pip install $PIP "$WHEEL"
"$V/python" -m pip install $PIP --no-deps "$SRC/examples/lora-claims-example"

mkdir -p "$WORK/outside" "$WORK/elsewhere"
cd "$WORK/outside"
for name in theorems strategies report; do
    if "$V/python" -c "import $name" 2>/dev/null; then echo "FAIL: 'import $name' works after a wheel install"; exit 1; fi
done
echo "only lora_claims is importable"
"$V/lora-claims" list | tail -n 3
test "$("$V/lora-claims" list --json | "$V/python" -c 'import json,sys; print(len(json.load(sys.stdin)["claims"]))')" -gt 100

# the same claims, editable (this checkout's environment) and wheel, same seed: kim2025's claims that replay
# the curated fixtures (package data) and their controls
KIM=('kim2025.k2_*' 'kim2025.k3_*' 'kim2025.m1_*' 'kim2025.m3_*' 'kim2025.m4_*' 'kim2025.k0_*')
(cd "$SRC" && lora-claims falsify "${KIM[@]}" --profile ci --seed 0 --json --results "$WORK/editable/claims.sqlite" > "$WORK/editable.json")
"$V/lora-claims" falsify "${KIM[@]}" --profile ci --seed 0 --json --results "$WORK/wheel/claims.sqlite" > "$WORK/wheel.json"
python "$SRC/.ci/compare_runs.py" "$WORK/editable.json" "$WORK/wheel.json"

# the example plugin, loaded through its entry point
"$V/lora-claims" falsify 'example.*' --profile ci --seed 0 --json --results "$WORK/plugin/claims.sqlite" > "$WORK/plugin.json"
"$V/python" - "$WORK/plugin.json" <<'PY'
import json, sys
doc = {c["id"]: c for c in json.load(open(sys.argv[1]))["claims"]}
assert doc["example.eckart_young"]["verdict"] == "held", doc["example.eckart_young"]
assert doc["example.nc_tail_includes_sr"]["verdict"] == "falsified", doc["example.nc_tail_includes_sr"]
print("plugin: theorem held on", doc["example.eckart_young"]["examples"], "examples; control falsified")
PY
CE="$(ls "$WORK"/plugin/counterexamples/example.nc_tail_includes_sr-*.json)"
(cd "$WORK/elsewhere" && "$V/lora-claims" reproduce "$CE")
"$V/lora-claims" report --results "$WORK/plugin/claims.sqlite" -o "$WORK/plugin-report.html"
grep -q 'example.eckart_young' "$WORK/plugin-report.html"

# README's "Check your own theorem", as written, with the wheel's lora-claims first on PATH
(cd "$WORK/elsewhere" && PATH="$V:$PATH" bash -euo pipefail -c "$(python "$SRC/.ci/readme_block.py" own-theorem)")
echo "README's own-theorem commands ran"

if [ "${QUICK:-0}" = 1 ]; then exit 0; fi
# the declared minimum versions (torch: only the CPU wheel on disk, 2.13.0, can be installed here)
python -m venv "$WORK/minvenv"
M="$WORK/minvenv/bin"
"$M/python" -m pip install $PIP torch==2.13.0
"$M/python" -m pip install $PIP "$WHEEL" "hypothesis==6.137.0" "numpy==1.24.4" "scipy==1.10.1" "jinja2==3.1.0" \
    "matplotlib==3.7.0" "torchdiffeq==0.2.3" "cma==4.0.0" "ray==2.10.0" "redis==4.5.0"
"$M/python" -m pip install $PIP --no-deps "$SRC/examples/lora-claims-example"
"$M/python" -c "import hypothesis, numpy, scipy, jinja2, matplotlib; print('minimum versions:', hypothesis.__version__, numpy.__version__, scipy.__version__, jinja2.__version__, matplotlib.__version__)"
cd "$WORK/outside"
"$M/lora-claims" falsify 'example.*' 'xu2025.a2*' 'xu2025.a3*' 'jang2024.lemma_l2_origin' 'jang2024.nc_f_origin_threshold' \
    'dayi2024.p0*' --profile ci --seed 0 --results "$WORK/min/claims.sqlite"
"$M/lora-claims" report --results "$WORK/min/claims.sqlite" -o "$WORK/min-report.html"
RAYSET=('jang2024.lemma_l2_origin' 'jang2024.nc_f_origin_threshold' 'xu2025.a3_*')
"$M/lora-claims" falsify "${RAYSET[@]}" --profile ci --seed 0 --json --results "$WORK/min-local/claims.sqlite" > "$WORK/min-local.json"
"$M/lora-claims" falsify "${RAYSET[@]}" --profile ci --seed 0 --json --ray --results "$WORK/min-ray/claims.sqlite" > "$WORK/min-ray.json"
python "$SRC/.ci/compare_runs.py" "$WORK/min-local.json" "$WORK/min-ray.json"
if [ -n "${LORA_CLAIMS_TEST_REDIS:-}" ]; then
    "$M/lora-claims" falsify 'example.*' --profile ci --seed 0 --example-db "$LORA_CLAIMS_TEST_REDIS" \
        --results "$WORK/min-redis/claims.sqlite" >/dev/null
fi
echo "minimum versions: smoke subset passed"
