"""Many small files in one upload session with the official Python `geopera` package
(2.1.0), exactly as the seed's "Multi-file uploads" section writes it: `uploads.initiate`
with `file_count` and `total_bytes` for every file, then one after the other
`uploads.signed_url` and `httpx.put(content=fh.read())` per file, then one
`uploads.complete`. The counterpart of `upload_files` in
`crates/geopera-transfer/benches/speed.rs`, which runs it (GEOPERA_BENCH_PYTHON):

    target/venv/bin/python benches/python_many_files.py --url http://127.0.0.1:8787 \
        --token dev-token --project prj_demo --dir DIR

Prints `files=N secs=S` (from before `uploads.initiate` to after `uploads.complete`).
Only loopback URLs are accepted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from urllib.parse import urlparse

import httpx
from geopera import Geopera


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    if urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        print(f"refusing a non-loopback URL: {args.url}", file=sys.stderr)
        return 2
    client = Geopera(token=args.token, base_url=args.url)
    names = sorted(os.listdir(args.dir))
    files = [(name, "image/tiff") for name in names]
    total = sum(os.path.getsize(os.path.join(args.dir, name)) for name in names)

    started = time.perf_counter()
    session = client.uploads.initiate(
        {
            "project_id": args.project,
            "transfer_method": "signed_url",
            "file_count": len(files),
            "total_bytes": total,
        }
    )
    upload_id = session.id
    try:
        for file_name, content_type in files:
            signed = client.uploads.signed_url(
                {
                    "upload_id": upload_id,
                    "file_name": file_name,
                    "content_type": content_type,
                }
            )
            with open(os.path.join(args.dir, file_name), "rb") as fh:
                httpx.put(
                    signed.upload_url,
                    content=fh.read(),
                    headers={"Content-Type": content_type},
                    timeout=None,
                ).raise_for_status()
        result = client.uploads.complete({"upload_id": upload_id})
    except Exception as exc:
        client.uploads.fail(
            {
                "upload_id": upload_id,
                "error_message": str(exc),
                "error_step": "transfer",
            }
        )
        raise
    secs = time.perf_counter() - started
    assert len(result["item_ids"]) == len(files), result
    print(f"files={len(files)} secs={secs:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
