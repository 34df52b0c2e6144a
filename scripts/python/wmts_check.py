"""Areo as an OGC WMTS source for an outside client: owslib (PyPI) reads the capabilities
document alone, then fetches a tile over a public observation that must decode (Pillow) to
256 × 256 pixels with data, and be the very tile Areo serves at its RESTful URL."""
import argparse
import io
import json
import sys
import urllib.request

from owslib.wmts import WebMapTileService
from PIL import Image


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    base = parser.parse_args().base
    failures = []

    def check(condition, what):
        print(("ok   " if condition else "FAIL ") + what, flush=True)
        if not condition:
            failures.append(what)

    wmts = WebMapTileService(base + "/v1/wmts/1.0.0/WMTSCapabilities.xml")
    check(wmts.identification.type == "OGC WMTS", f"owslib reads the capabilities ({wmts.identification.type} {wmts.version})")
    check({"PAN", "NIR-PAN-BLU"} <= set(wmts.contents), f"layers {sorted(wmts.contents)}")
    check({"mars-eqc", "mars-north-stere", "mars-south-stere"} <= set(wmts.tilematrixsets), f"tile matrix sets {sorted(wmts.tilematrixsets)}")
    eqc = wmts.tilematrixsets["mars-eqc"]
    check(len(eqc.tilematrix) == 15 and eqc.tilematrix["0"].matrixwidth == 2 and eqc.tilematrix["0"].matrixheight == 1,
          "mars-eqc has zooms 0…14, 2 × 1 tiles at zoom 0")

    # A public observation's centre, at the finest zoom where it spans about one tile.
    observations = json.load(urllib.request.urlopen(base + "/v1/observations?limit=100"))["observations"]
    observation = next(o for o in observations if o.get("bbox") and o["status"] != "unplanned")
    w, s, e, n = observation["bbox"]
    matrix = eqc.tilematrix["0"]
    zoom = 0
    while zoom < 14 and 180 / 2 ** (zoom + 1) >= max(e - w, n - s):
        zoom += 1
    d = 180 / 2 ** zoom
    column, row = int(((w + e) / 2 + 180) // d), int((90 - (s + n) / 2) // d)
    tile = wmts.gettile(layer="NIR-PAN-BLU", tilematrixset="mars-eqc", tilematrix=str(zoom), row=row, column=column, format="image/png")
    data = tile.read()
    image = Image.open(io.BytesIO(data))
    check(image.size == (256, 256) and image.mode == "RGBA", f"the tile decodes to {image.size} {image.mode}")
    alpha = image.getchannel("A")
    opaque = alpha.histogram()[255]
    check(opaque > 500, f"the tile over observation {observation['id']} has data ({opaque} opaque pixels)")
    rgb = image.convert("RGB")
    colours = {rgb.getpixel((x, y)) for x in range(0, 256, 16) for y in range(0, 256, 16) if alpha.getpixel((x, y)) == 255}
    check(len(colours) > 5, f"and texture ({len(colours)} distinct colours sampled)")
    direct = urllib.request.urlopen(f"{base}/v1/tiles/mars-eqc/{zoom}/{column}/{row}.png?product=NIR-PAN-BLU").read()
    check(direct == data, "owslib's tile is the tile at Areo's RESTful URL")
    if failures:
        print(f"wmts-check: {len(failures)} failed", file=sys.stderr)
        sys.exit(1)
    print("wmts-check: all passed")


if __name__ == "__main__":
    main()
