#!/usr/bin/env python3
"""Opens a PDS4 product with pds4-tools (the PDS's reader) and prints what it found as JSON:
the array's shape, its special constants, and the values at the given (line, sample) places."""
import json
import sys

import numpy as np
import pds4_tools


def main():
    label = sys.argv[1]
    places = [tuple(int(v) for v in p.split(",")) for p in sys.argv[2:]]
    structures = pds4_tools.read(label, quiet=True, lazy_load=False)
    array = structures[0]
    data = np.asarray(array.data)
    special = array.meta_data.get("Special_Constants", {})
    values = []
    for line, sample in places:
        v = data[..., line, sample] if data.ndim == 3 else data[line, sample]
        values.append(np.asarray(v).astype(float).tolist())
    print(json.dumps({
        "lid": structures.label.findtext(".//logical_identifier"),
        "vid": structures.label.findtext(".//version_id"),
        "type": array.meta_data["Element_Array"]["data_type"],
        "shape": list(data.shape),
        "missing_constant": float(special["missing_constant"]) if "missing_constant" in special else None,
        "values": values,
    }))


if __name__ == "__main__":
    main()
