"""Run every benchmark in turn (`make bench`); each prints its own figures and ratios."""

from __future__ import annotations

import subprocess
import sys

BENCHES = [
    ["bench.bench_quality"],
    ["bench.bench_confidence"],
    ["bench.bench_shorthand"],
    ["bench.bench_suggest"],
    ["bench.bench_vector"],
    ["bench.bench_embed"],
    ["bench.bench_reports"],
    ["bench.handbook_export"],
    ["bench.lifecycle_bench"],
]


def main() -> int:
    """Run each benchmark module; report which failed."""
    failed = []
    for args in BENCHES:
        print(f"\n=== python -m {' '.join(args)}", flush=True)
        if subprocess.call([sys.executable, "-m", *args]) != 0:
            failed.append(args[0])
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
