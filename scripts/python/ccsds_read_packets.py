# Reads pass files (ICD §2) with ccsdspy, an independent CCSDS space-packet reader, and prints
# [apid, sequence count, sequence flags, sha256 of the packet] for every packet, as JSON.
# Strips the 18-byte delivery headers by their length field only; used by the simulator tests.
import sys, json, struct, hashlib, io
from ccsdspy.utils import read_primary_headers, iter_packet_bytes
out = []
for path in sys.argv[1:]:
    data = open(path, 'rb').read()
    i = 0
    stream = bytearray()
    while i + 18 <= len(data):
        n = struct.unpack('>I', data[i + 8:i + 12])[0]
        stream += data[i + 18:i + 18 + n]
        i += 18 + n
    headers = read_primary_headers(io.BytesIO(bytes(stream)))
    packets = list(iter_packet_bytes(io.BytesIO(bytes(stream)), include_primary_header=True))
    for k, p in enumerate(packets):
        out.append([int(headers['CCSDS_APID'][k]), int(headers['CCSDS_SEQUENCE_COUNT'][k]),
                    int(headers['CCSDS_SEQUENCE_FLAG'][k]), hashlib.sha256(bytes(p)).hexdigest()])
print(json.dumps(out))
