"""Times tile requests one after another over one keep-alive connection (the same client for
Areo and its peer): prints JSON {count, failures, p50_ms, p95_ms, mean_ms, bytes}.

    tile_timing.py --urls FILE [--header 'Name: value']
"""
import argparse
import http.client
import json
import statistics
import time
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", required=True)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    urls = [line.strip() for line in open(args.urls) if line.strip()]
    headers = dict(h.split(": ", 1) for h in args.header)
    first = urllib.parse.urlsplit(urls[0])
    connection = http.client.HTTPConnection(first.hostname, first.port, timeout=120)
    times, failures, total = [], 0, 0
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        path = parts.path + ("?" + parts.query if parts.query else "")
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        times.append((time.perf_counter() - started) * 1000)
        total += len(body)
        if response.status != 200:
            failures += 1
    times.sort()
    print(json.dumps({
        "count": len(times), "failures": failures, "bytes": total,
        "p50_ms": statistics.median(times), "p95_ms": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))],
        "mean_ms": statistics.fmean(times),
    }))


if __name__ == "__main__":
    main()
