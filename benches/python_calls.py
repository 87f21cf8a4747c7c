"""Calls per second of the official Python `geopera` package (2.1.0) doing the same
sequential `uploads.progress` calls as `benches/calls.rs`, against the same dev server.

Variants, interleaved in rounds like the Rust bench. Besides wall time, the process's own
CPU time per call (`time.process_time`: user + system, all threads) is reported, the
figure that the server's share of the machine does not blur.
  generated_shared  `geopera.api.operations.uploads_progress.sync(client=c, body=...)` with
                    one shared `AuthenticatedClient` (one httpx.Client, keep-alive): the fair
                    comparison with the Rust SDK
  fluent_shared     `Geopera(token=..., base_url=...).uploads.progress({...})`, one instance
  httpx_raw         a hand-written `httpx.Client.post` of the same JSON (Python's "raw")
  new_client        a new `AuthenticatedClient` per call (new httpx.Client, new
                    connection each call), as a script that builds a client per call would

Run through `benches/run.sh`, which installs `geopera==2.1.0` into the venv
"${GEOPERA_VENV:-target/venv}" and starts the dev server; by hand:

    target/venv/bin/python benches/python_calls.py --url http://127.0.0.1:8787 \
        --token dev-token --project prj_demo [--calls 3000] [--out results.json]

`--url`, `--token` and `--project` default to GEOPERA_API_URL, GEOPERA_API_TOKEN and
GEOPERA_PROJECT_ID (else prj_demo). Only loopback URLs are accepted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from importlib.metadata import version
from urllib.parse import urlparse

EXPECTED_VERSION = "2.1.0"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("GEOPERA_API_URL"))
    parser.add_argument("--token", default=os.environ.get("GEOPERA_API_TOKEN"))
    parser.add_argument(
        "--project", default=os.environ.get("GEOPERA_PROJECT_ID") or "prj_demo"
    )
    parser.add_argument(
        "--calls",
        type=int,
        default=int(os.environ.get("GEOPERA_BENCH_PY_CALLS", "3000")),
        help="calls per shared-client variant (default 3000)",
    )
    parser.add_argument(
        "--new-client-calls",
        type=int,
        default=150,
        help="calls of the new-client-per-call variant (default 150)",
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--out", default=os.environ.get("GEOPERA_BENCH_OUT_PY"))
    args = parser.parse_args()
    if not args.url or not args.token:
        parser.error(
            "--url and --token (or GEOPERA_API_URL and GEOPERA_API_TOKEN) are required"
        )
    host = urlparse(args.url).hostname or ""
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        parser.error(f"only loopback URLs are benchmarked, got {args.url}")

    import geopera
    import httpx
    from geopera import AuthenticatedClient, Geopera
    from geopera.api.operations import uploads_fail, uploads_initiate, uploads_progress
    from geopera.models import (
        UploadFailInput,
        UploadInitiate,
        UploadOutput,
        UploadProgressInput,
    )

    got = version("geopera")
    if got != EXPECTED_VERSION:
        print(
            f"warning: geopera {got} installed, {EXPECTED_VERSION} expected",
            file=sys.stderr,
        )

    shared = AuthenticatedClient(base_url=args.url, token=args.token)
    session = uploads_initiate.sync(
        client=shared,
        body=UploadInitiate.from_dict(
            {
                "project_id": args.project,
                "transfer_method": "signed_url",
                "file_count": 1,
                "total_bytes": 1,
            }
        ),
    )
    if not isinstance(session, UploadOutput):
        print(f"uploads.initiate failed: {session!r}", file=sys.stderr)
        return 1
    upload_id = session.id
    payload = {"upload_id": upload_id, "status": "uploading", "bytes_uploaded": 1 << 20}
    body = UploadProgressInput.from_dict(payload)
    fluent = Geopera(token=args.token, base_url=args.url)
    raw = httpx.Client(
        base_url=args.url,
        headers={"Authorization": f"Bearer {args.token}"},
    )

    def generated_shared() -> None:
        out = uploads_progress.sync(client=shared, body=body)
        assert isinstance(out, UploadOutput), out

    def fluent_shared() -> None:
        out = fluent.uploads.progress(payload)
        assert isinstance(out, UploadOutput), out

    def httpx_raw() -> None:
        r = raw.post("/v1/op/uploads.progress", json=payload)
        r.raise_for_status()
        UploadOutput.from_dict(r.json())

    def new_client() -> None:
        with AuthenticatedClient(base_url=args.url, token=args.token) as c:
            out = uploads_progress.sync(client=c, body=body)
        assert isinstance(out, UploadOutput), out

    variants = [
        (
            "generated_shared",
            "Python `uploads_progress.sync`, one shared AuthenticatedClient",
            generated_shared,
            args.calls,
        ),
        (
            "fluent_shared",
            "Python fluent `Geopera(...).uploads.progress(dict)`, one instance",
            fluent_shared,
            args.calls,
        ),
        (
            "httpx_raw",
            "Python hand-written `httpx.Client.post`, shared client",
            httpx_raw,
            args.calls,
        ),
        (
            "new_client",
            "Python `uploads_progress.sync`, new AuthenticatedClient per call",
            new_client,
            args.new_client_calls,
        ),
    ]

    for _, _, fn, _ in variants:  # warm-up: imports, connections
        for _ in range(50):
            fn()
    samples: dict[str, list[float]] = {key: [] for key, *_ in variants}
    cpu_ns: dict[str, int] = {key: 0 for key, *_ in variants}
    rounds = max(1, args.rounds)
    for r in range(rounds):
        for k in range(len(variants)):
            key, _, fn, n = variants[(k + r) % len(variants)]
            cpu = time.process_time_ns()
            for _ in range(max(1, n // rounds)):
                t = time.perf_counter_ns()
                fn()
                samples[key].append((time.perf_counter_ns() - t) / 1000.0)
            cpu_ns[key] += time.process_time_ns() - cpu

    uploads_fail.sync(
        client=shared,
        body=UploadFailInput.from_dict(
            {
                "upload_id": upload_id,
                "error_message": "benchmark done",
                "error_step": "bench",
            }
        ),
    )
    raw.close()

    results: dict[str, object] = {
        "python": sys.version.split()[0],
        "geopera": got,
        "httpx": httpx.__version__,
    }
    print(
        f"## Python geopera {got} (httpx {httpx.__version__}, CPython {results['python']}), sequential uploads.progress"
    )
    print(
        "| variant | calls | median µs | p90 µs | calls/s | client CPU µs/call |\n"
        "|---|---:|---:|---:|---:|---:|"
    )
    for key, label, _, _ in variants:
        s = sorted(samples[key])
        med = statistics.median(s)
        p90 = s[min(len(s) - 1, round((len(s) - 1) * 0.9))]
        per_s = len(s) / (sum(s) / 1e6)
        cpu_us = cpu_ns[key] / len(s) / 1000.0
        print(
            f"| {label} | {len(s)} | {med:.1f} | {p90:.1f} | {per_s:.0f} | {cpu_us:.1f} |"
        )
        results[f"py.{key}.median_us"] = round(med, 2)
        results[f"py.{key}.p90_us"] = round(p90, 2)
        results[f"py.{key}.calls_per_s"] = round(per_s)
        results[f"py.{key}.calls"] = len(s)
        results[f"py.{key}.cpu_us"] = round(cpu_us, 2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
        print(f"results written to {args.out}", file=sys.stderr)
    _ = geopera  # the package itself, imported so a broken install fails loudly above
    return 0


if __name__ == "__main__":
    sys.exit(main())
