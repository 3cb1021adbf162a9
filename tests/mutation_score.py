"""Print the mutation score per module from `mutmut results --all true`.

What it does: reads mutmut's results (run `make mutation` first), counts
killed, survived and untested mutants per module of the domain and the
service layer, and prints each module's share killed and the total.
Needs: mutmut in the current interpreter (`make mutation` sets that up).
Run:   .venv-mutation/bin/python tests/mutation_score.py
"""

from __future__ import annotations

import collections
import subprocess
import sys


def main() -> int:
    lines = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], capture_output=True,
                           text=True, check=True).stdout.splitlines()
    by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in lines:
        name, _, status = line.strip().rpartition(":")
        if name:
            by_module[".".join(name.split(".")[:3])][status.strip()] += 1
    total: collections.Counter = collections.Counter()
    for module, counts in sorted(by_module.items()):
        total.update(counts)
        mutants = sum(counts.values())
        print(f"{module:45} killed {counts['killed']:5}/{mutants:5} = {counts['killed'] / mutants:6.1%}  "
              f"survived {counts['survived']:4}  no tests {counts['no tests']:4}")
    mutants = sum(total.values())
    print(f"{'total':45} killed {total['killed']:5}/{mutants:5} = {total['killed'] / max(mutants, 1):6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
