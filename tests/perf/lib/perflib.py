# SPDX-License-Identifier: GPL-2.0-only
"""Helpers shared by the benchmarks under tests/perf (standard library only)."""

import json
import os
import statistics


def parse_mib(s):
    """'64M' / '1G' / '512' (MiB) -> MiB as an int."""
    s = s.strip().upper()
    mult = {'K': 1 / 1024, 'M': 1, 'G': 1024}.get(s[-1:], None)
    if mult is None:
        return int(s)
    return int(float(s[:-1]) * mult)


def median(vals):
    """Median of the values that are not None, or None when there are none."""
    v = [x for x in vals if x is not None]
    return statistics.median(v) if v else None


def write_json(path, obj):
    """Write @obj as indented JSON, atomically (a reader never sees half a file)."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=False)
        f.write('\n')
    os.replace(tmp, path)


def gbps(mpps, frame_bytes):
    """Line-rate equivalent of @mpps frames per second of @frame_bytes (with FCS): adds the 20
    bytes of preamble, SFD and inter-frame gap that a wire would carry (RFC 2544 frame sizes)."""
    return mpps * 1e6 * (frame_bytes + 20) * 8 / 1e9
