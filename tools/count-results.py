#!/usr/bin/env python3
"""Sum meson testlog.json files (one JSON object per line) into the closing line 'N passed, N failed'."""
import json
import sys

PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}
passed = failed = skipped = 0
failures = []
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        print(f"count-results: {path}: {e}", file=sys.stderr)
        failed += 1
        failures.append(path)
        continue
    for line in lines:
        if not line.strip():
            continue
        r = json.loads(line)
        res = r.get("result")
        if res in PASS:
            passed += 1
        elif res in SKIP:
            skipped += 1
        else:
            failed += 1
            failures.append(f"{r.get('name')} ({res}) [{path}]")
for f in failures:
    print(f"FAILED: {f}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
