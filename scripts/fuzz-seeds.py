#!/usr/bin/env python3
"""Seed corpora for scripts/fuzz, cut from the sample missions: SAMPLES OUT."""
import io, json, os, struct, sys, tarfile

samples, out = sys.argv[1], sys.argv[2]
def put(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)

def records(data):
    offset = 0
    while offset + 18 <= len(data):
        ert_s, ert_us, length = struct.unpack(">III", data[offset:offset + 12])
        if not 16 <= length <= 65542 or offset + 18 + length > len(data):
            offset += 1
            continue
        yield ert_s * 1_000_000 + ert_us, data[offset + 18:offset + 18 + length]
        offset += 18 + length

missions = sorted(d for d in os.listdir(samples) if os.path.isdir(os.path.join(samples, d)))
for mission in missions:
    root = os.path.join(samples, mission)
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name.endswith(".dds"):
            data = open(path, "rb").read()
            put("pass-file", f"{mission}-{name}-head", data[:16384])
            put("pass-file", f"{mission}-{name}-mid", data[len(data) // 2:len(data) // 2 + 16384])
            fragment, fragments, stream, hk = b"", 0, b"", 0
            for ert, packet in records(data):
                apid = struct.unpack(">H", packet[0:2])[0] & 0x7FF
                flags = packet[2] >> 6
                seq = struct.unpack(">H", packet[2:4])[0] & 0x3FFF
                coarse, fine = struct.unpack(">IH", packet[6:12])
                if len(stream) < 16 * 64:
                    stream += struct.pack(">IHHq", coarse, fine, seq, ert)
                user = packet[14:-2]
                if apid == 1201 and hk < 3:
                    put("housekeeping", f"{mission}-{name}-{hk}", user); hk += 1
                if apid == 1200:
                    if len(os.listdir(os.path.join(out, "space-packet"))) < 12 if os.path.isdir(os.path.join(out, "space-packet")) else True:
                        put("space-packet", f"{mission}-{name}-{seq}", packet)
                    if flags in (1, 3): fragment = b""
                    fragment += user
                    if flags in (2, 3) and fragments < 3 and len(fragment) <= 65536:
                        put("fragment", f"{mission}-{name}-{fragments}", fragment); fragments += 1
            put("clock-wrap", f"{mission}-{name}", stream)
        elif name.endswith(".plan.jsonl"):
            put("plan", f"{mission}-{name}", open(path, "rb").read())
        elif name == "instrument.json":
            put("instrument", mission, open(path, "rb").read())
    for kernel in ("predicted.json", "reconstructed.json"):
        path = os.path.join(root, "geometry", kernel)
        if os.path.exists(path):
            document = json.load(open(path))
            for key in ("ephemeris", "attitude", "sun", "clock"):
                if isinstance(document.get(key), list): document[key] = document[key][:8]
            put("kernel", f"{mission}-{kernel}", json.dumps(document).encode())
    calibration = os.path.join(root, "calibration")
    if os.path.isdir(calibration):
        for set_id in sorted(os.listdir(calibration)):
            description = open(os.path.join(calibration, set_id, "calibration.json"), "rb").read()
            put("calibration", f"{mission}-{set_id}", description)
            archive = io.BytesIO()
            with tarfile.open(fileobj=archive, mode="w", format=tarfile.USTAR_FORMAT) as tar:
                for member, data in (("calibration.json", description), ("pan_bad.u8", b"\0" * 16)):
                    info = tarfile.TarInfo(member); info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            put("tar", f"{mission}-{set_id}.tar", archive.getvalue())

for mission in sorted(os.listdir(samples)):
    dem = os.path.join(samples, mission, "dem")
    if os.path.isdir(dem):
        for name in sorted(os.listdir(dem)):
            path = os.path.join(dem, name)
            if name.endswith(".dem.tif") and os.path.getsize(path) <= 65536:
                put("geotiff", f"{mission}-{name}", open(path, "rb").read())

dictionary = os.path.join(samples, "..", "icd", "hk-dictionary.json")
if os.path.exists(dictionary):
    put("dictionary", "hk-dictionary.json", open(dictionary, "rb").read())
for i, q in enumerate([
    "limit=10&offset=20", "from=2026-06-01T00:00:00Z&to=2026-06-02T02:40:18Z", "bbox=10,-5,20,5&scale=4",
    "ert_from=2026-01-01T00:00:00.5Z&ert_to=2026-01-02T00:00:00Z", "sclk_from=700000000&sclk_to=700001000",
    "name=pass_001.dds&status=complete", "from=1667-09-11T17:05:47Z&to=9999-12-31T23:59:59Z",
]):
    put("query", f"q{i}", q.encode())
