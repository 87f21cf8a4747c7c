"""Builds the markdown results table of `benches/run.sh` from the JSON files the benches
wrote into the results directory: `python3 benches/report.py <dir> <bytes>`."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path


def load(d: Path) -> dict:
    r: dict = {}
    for name in ("run", "calls", "python", "transfer", "rss", "build"):
        p = d / f"{name}.json"
        if p.exists():
            r.update(json.loads(p.read_text()))
    return r


def cmd(*args: str) -> str:
    try:
        return subprocess.run(
            args, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def load_now() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def cpu_model() -> str:
    for line in cmd("lscpu").splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def main() -> int:
    d = Path(sys.argv[1])
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 30
    r = load(d)
    rows: list[tuple[str, str, str, str, str, str]] = []

    def f(key: str, fmt: str = "{:,.0f}") -> str:
        v = r.get(key)
        return fmt.format(v) if isinstance(v, (int, float)) else "—"

    def verdict(ok: bool | None) -> str:
        return "—" if ok is None else ("**met**" if ok else "**missed**")

    for prefix, setting in (
        ("seq", "multi-thread runtime"),
        ("seq_ct", "current-thread runtime"),
    ):
        if f"{prefix}.raw.median_us" not in r:
            continue
        raw = r[f"{prefix}.raw.median_us"]
        for key, label in (
            ("ops", "SDK `ops::uploads_progress::send`"),
            ("fluent", "SDK fluent `uploads().progress(model)`"),
            ("fluent_json", "SDK fluent `uploads().progress(json!)`"),
            ("ops_no_retry", "SDK `ops`, `RetryPolicy::disabled()`"),
            ("raw_timeout", "raw reqwest + 60 s timeout"),
        ):
            if f"{prefix}.{key}.median_us" not in r:
                continue
            ratio = r[f"{prefix}.{key}.median_us"] / raw
            headline = key in ("ops", "fluent")
            cpu = r.get(f"{prefix}.{key}.cpu_us")
            rows.append(
                (
                    f"per call, sequential, {setting}: {label} vs raw reqwest (median µs; client CPU µs)",
                    f"{r[f'{prefix}.{key}.median_us']:.1f} µs ({f(f'{prefix}.{key}.calls_per_s')}/s; CPU {cpu:.1f})",
                    f"{raw:.1f} µs ({f(f'{prefix}.raw.calls_per_s')}/s; CPU {r.get(f'{prefix}.raw.cpu_us', 0):.1f})",
                    f"{ratio:.3f} (CPU {r.get(f'{prefix}.{key}.cpu_ratio_to_raw', 0):.2f})",
                    "≤ 1.10" if headline else "(info)",
                    verdict(ratio <= 1.10) if headline else "—",
                )
            )
    if "py.generated_shared.calls_per_s" in r and "seq.ops.calls_per_s" in r:
        rust = r["seq.ops.calls_per_s"]
        for key, label in (
            (
                "generated_shared",
                "Python `uploads_progress.sync`, shared AuthenticatedClient",
            ),
            ("fluent_shared", "Python fluent `Geopera(...).uploads.progress`"),
            ("httpx_raw", "Python hand-written httpx POST"),
            ("new_client", "Python, new AuthenticatedClient per call"),
        ):
            py = r[f"py.{key}.calls_per_s"]
            rows.append(
                (
                    f"calls/s, sequential: Rust SDK `ops` vs {label}",
                    f"{rust:,.0f}/s",
                    f"{py:,.0f}/s ({f(f'py.{key}.median_us', '{:.0f}')} µs median)",
                    f"{rust / py:.2f}×",
                    "(report)",
                    "—",
                )
            )
    for tasks in (1, 16, 128):
        k = f"conc.{tasks}"
        if f"{k}.ops.calls_per_s" in r and f"{k}.raw.calls_per_s" in r:
            sdk, raw = r[f"{k}.ops.calls_per_s"], r[f"{k}.raw.calls_per_s"]
            rows.append(
                (
                    f"calls/s, {tasks} concurrent task{'s' if tasks > 1 else ''}: SDK `ops` vs raw reqwest",
                    f"{sdk:,.0f}/s (p50 {f(k + '.ops.p50_us', '{:.0f}')} µs, p99 {f(k + '.ops.p99_us', '{:.0f}')} µs; CPU {f(k + '.ops.cpu_us', '{:.1f}')} µs/call)",
                    f"{raw:,.0f}/s (CPU {f(k + '.raw.cpu_us', '{:.1f}')} µs/call)",
                    f"{sdk / raw:.3f}",
                    "(report)",
                    "—",
                )
            )
    gib = size / (1 << 30)
    for direction in ("upload", "download"):
        if f"{direction}.sdk_mb_s" in r:
            ratio = r[f"{direction}.sdk_to_curl"]
            helper = (
                "put_file (streaming PUT)"
                if direction == "upload"
                else "get_to_file (streaming GET)"
            )
            tool = "curl -T" if direction == "upload" else "curl -o"
            rows.append(
                (
                    f"{direction} {gib:g} GiB: examples' {helper} vs {tool} (median MB/s)",
                    f"{f(direction + '.sdk_mb_s')} MB/s",
                    f"{f(direction + '.curl_mb_s')} MB/s",
                    f"{ratio:.3f}",
                    "≥ 0.80",
                    verdict(ratio >= 0.80),
                )
            )
    for key, label in (
        ("rss.upload_kb", "peak RSS: `examples/large_file.rs` uploading"),
        ("rss.download_kb", "peak RSS: `examples/download_asset.rs` downloading"),
    ):
        if key in r:
            mib = r[key] / 1024
            rows.append(
                (
                    f"{label} {r.get('rss.bytes', size) / (1 << 30):g} GiB",
                    f"{mib:.1f} MiB",
                    "—",
                    "—",
                    "< 64 MiB",
                    verdict(mib < 64),
                )
            )
    for key, label in (
        (
            "build.clean_s",
            "build: clean `cargo build` (dev, default features, fresh target dir)",
        ),
        ("build.noop_s", "build: no-op `cargo build`"),
        ("build.touch_openapi_s", "build: incremental after `touch openapi.json`"),
        ("build.touch_fluent_s", "build: incremental after `touch src/fluent/mod.rs`"),
        (
            "build.edit_openapi_s",
            "build: incremental after editing one description in `openapi.json`",
        ),
        (
            "build.edit_fluent_s",
            "build: incremental after a blank line at the top of `src/fluent/mod.rs`",
        ),
    ):
        if key in r:
            rows.append((label, f"{r[key]:.1f} s", "—", "—", "(report)", "—"))

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"## Results, {now}\n")
    print(
        f"Machine: {os.cpu_count()} CPUs ({cpu_model()}), "
        f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / (1 << 30))} GiB; "
        f"{cmd('rustc', '--version')}; commit {cmd('git', 'rev-parse', '--short', 'HEAD')}"
        f"{' (+ uncommitted changes)' if cmd('git', 'status', '--porcelain') not in ('', '?') else ''}; "
        f"{r.get('curl', 'curl ?').split(' (')[0]}; Python geopera {r.get('geopera', '?')} "
        f"(CPython {r.get('python', '?')}, httpx {r.get('httpx', '?')})."
    )
    if r.get("loadavg_start"):
        print(
            f"Load average (1/5/15 min) at the start: {r['loadavg_start']}; at the end: {load_now()}."
        )
    print()
    print("| measure | SDK | baseline | ratio | target | result |")
    print("|---|---:|---:|---:|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
