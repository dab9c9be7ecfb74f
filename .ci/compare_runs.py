"""Compare two `lora-claims falsify --json` documents: same claim ids, verdicts, example counts and
worst margins (to 1e-12 relative).  Exit 1 with the differences listed otherwise."""
import json
import math
import sys


def key(doc):
    return {c["id"]: c for c in doc["claims"]}


def main(a_path, b_path):
    a, b = key(json.load(open(a_path))), key(json.load(open(b_path)))
    bad = []
    if list(a) != list(b):
        bad.append(f"claim ids differ: {sorted(set(a) ^ set(b))}")
    for cid in a.keys() & b.keys():
        x, y = a[cid], b[cid]
        for f in ("verdict", "examples", "passed", "failed", "inconclusive"):
            if x.get(f) != y.get(f):
                bad.append(f"{cid}: {f} {x.get(f)!r} != {y.get(f)!r}")
        mx, my = x.get("worst_margin"), y.get("worst_margin")
        if (mx is None) != (my is None) or (mx is not None and not math.isclose(mx, my, rel_tol=1e-12, abs_tol=1e-300)):
            bad.append(f"{cid}: worst_margin {mx!r} != {my!r}")
    print(f"compared {len(a)} claims: {'identical' if not bad else f'{len(bad)} differences'}")
    for line in bad:
        print("  " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
