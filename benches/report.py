"""Builds the markdown results table of `benches/run.sh` from the JSON files the benches
wrote into the results directory: `python3 benches/report.py <dir> <bytes>`.

`python3 benches/report.py --runs <dir> <dir> <dir> ...` instead puts the call ratios of
several runs (copies of that directory) side by side with their median, and judges the
targets on the median."""

from __future__ import annotations

import json
import os
import platform
import statistics
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


def ratio(r: dict, num: str, den: str) -> float | None:
    a, b = r.get(num), r.get(den)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
        return a / b
    return None


# (label, numerator key, denominator key, target: ("<=" | ">=", bound) or None)
Target = tuple[str, float] | None
RUN_RATIOS: list[tuple[str, str, str, Target]] = []
for _prefix, _setting in (("seq", "multi-thread"), ("seq_ct", "current-thread")):
    for _key, _name in (("ops", "`ops`"), ("fluent", "fluent")):
        RUN_RATIOS.append(
            (
                f"sequential, {_setting}: {_name} / raw, median",
                f"{_prefix}.{_key}.median_us",
                f"{_prefix}.raw.median_us",
                ("<=", 1.10),
            )
        )
        RUN_RATIOS.append(
            (
                f"sequential, {_setting}: {_name} / raw, client CPU",
                f"{_prefix}.{_key}.cpu_us",
                f"{_prefix}.raw.cpu_us",
                None,
            )
        )
for _tasks in (1, 16, 128):
    _judged = _tasks in (16, 128)
    _level = f"{_tasks} task{'s' if _tasks > 1 else ''}"
    for _key, _name in (
        ("ops", "`ops`"),
        ("fluent", "fluent"),
        ("raw_timeout", "raw + 60 s timeout"),
        ("ops_no_timeout", "`ops` with `timeout(None)`"),
        ("ops_boxed", "`ops` future boxed"),
    ):
        # The last three (when GEOPERA_BENCH_CONC has them) are diagnostics, no target:
        # the SDK's per-attempt timeout on raw reqwest, the SDK without it, and the
        # fluent call's box alone.
        _target = _judged and _key in ("ops", "fluent")
        RUN_RATIOS.append(
            (
                f"{_level}: {_name} / raw, calls/s",
                f"conc.{_tasks}.{_key}.calls_per_s",
                f"conc.{_tasks}.raw.calls_per_s",
                (">=", 0.95) if _target else None,
            )
        )
        RUN_RATIOS.append(
            (
                f"{_level}: {_name} / raw, client CPU per call",
                f"conc.{_tasks}.{_key}.cpu_us",
                f"conc.{_tasks}.raw.cpu_us",
                ("<=", 1.10) if _target else None,
            )
        )
# Paired figures (the median over rounds of the ratio to raw's slice of the same round),
# written by the bench itself: shown beside the ratios of the totals, not judged.
RUN_PAIRED: list[tuple[str, str]] = []
for _tasks in (16, 128):
    for _key, _name in (("ops", "`ops`"), ("fluent", "fluent")):
        RUN_PAIRED.append(
            (
                f"{_tasks} tasks: {_name} / raw, calls/s, paired",
                f"conc.{_tasks}.{_key}.paired_calls_ratio",
            )
        )
        RUN_PAIRED.append(
            (
                f"{_tasks} tasks: {_name} / raw, client CPU per call, paired",
                f"conc.{_tasks}.{_key}.paired_cpu_ratio",
            )
        )
RUN_RATIOS += [
    (
        "Rust `ops` / Python shared client, calls/s",
        "seq.ops.calls_per_s",
        "py.generated_shared.calls_per_s",
        None,
    ),
    (
        "Python shared client / Rust `ops`, client CPU per call",
        "py.generated_shared.cpu_us",
        "seq.ops.cpu_us",
        None,
    ),
    (
        "Python hand-written httpx / Rust raw, client CPU per call",
        "py.httpx_raw.cpu_us",
        "seq.raw.cpu_us",
        None,
    ),
]
# Absolute values shown side by side (µs per call), for the CPU comparison with Python.
RUN_VALUES = [
    ("client CPU µs/call, sequential: Rust `ops` / raw", "seq.ops.cpu_us", "seq.raw.cpu_us"),
    (
        "client CPU µs/call, sequential: Python shared client / httpx",
        "py.generated_shared.cpu_us",
        "py.httpx_raw.cpu_us",
    ),
]


def runs_table(dirs: list[Path]) -> int:
    rs = [load(d) for d in dirs]
    runs = " | ".join(
        f"run {i + 1} (load {r.get('loadavg_start', '?').split()[0]})"
        for i, r in enumerate(rs)
    )
    print(f"| ratio | {runs} | median | target | result |")
    print("|---|" + "---:|" * (len(rs) + 1) + "---|---|")
    for label, num, den, target in RUN_RATIOS:
        vals = [ratio(r, num, den) for r in rs]
        got = [v for v in vals if v is not None]
        if not got:
            continue
        med = statistics.median(got)
        fmt = "{:.2f}" if "Python" in label or "Rust" in label else "{:.3f}"
        cells = [fmt.format(v) if v is not None else "—" for v in vals]
        if target is None:
            t, res = "(report)", "—"
        else:
            op, bound = target
            ok = med <= bound if op == "<=" else med >= bound
            t = f"{'≤' if op == '<=' else '≥'} {bound:.2f}"
            res = "**met**" if ok else "**missed**"
        row = " | ".join(cells)
        print(f"| {label} | {row} | {fmt.format(med)} | {t} | {res} |")
    for label, key in RUN_PAIRED:
        vals = [r.get(key) for r in rs]
        got = [v for v in vals if isinstance(v, (int, float))]
        if not got:
            continue
        cells = " | ".join(f"{v:.3f}" if isinstance(v, (int, float)) else "—" for v in vals)
        med = statistics.median(got)
        print(f"| {label} | {cells} | {med:.3f} | (report) | — |")
    for label, a, b in RUN_VALUES:
        cells = [f"{r[a]:.1f} / {r[b]:.1f}" if a in r and b in r else "—" for r in rs]
        row = " | ".join(cells)
        print(f"| {label} | {row} | | | |")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--runs":
        return runs_table([Path(a) for a in sys.argv[2:]])
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
            ("ops_no_timeout", "SDK `ops`, `timeout(None)`"),
            ("ops_boxed", "SDK `ops` future boxed"),
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
        rust_cpu = r.get("seq.ops.cpu_us")
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
            py_cpu = r.get(f"py.{key}.cpu_us")
            both_cpu = isinstance(py_cpu, (int, float)) and isinstance(
                rust_cpu, (int, float)
            )
            rows.append(
                (
                    f"calls/s, sequential: Rust SDK `ops` vs {label} (client CPU µs/call)",
                    f"{rust:,.0f}/s (CPU {f('seq.ops.cpu_us', '{:.1f}')})",
                    f"{py:,.0f}/s ({f(f'py.{key}.median_us', '{:.0f}')} µs median; CPU {f(f'py.{key}.cpu_us', '{:.1f}')})",
                    f"{rust / py:.2f}×"
                    + (f" (Python CPU {py_cpu / rust_cpu:.1f}×)" if both_cpu else ""),
                    "(report)",
                    "—",
                )
            )
    for tasks in (1, 16, 128):
        k = f"conc.{tasks}"
        for key, label in (
            ("ops", "SDK `ops`"),
            ("fluent", "SDK fluent"),
            ("raw_timeout", "raw reqwest + 60 s timeout"),
            ("ops_no_timeout", "SDK `ops`, `timeout(None)`"),
            ("ops_boxed", "SDK `ops` future boxed"),
        ):
            if f"{k}.{key}.calls_per_s" not in r or f"{k}.raw.calls_per_s" not in r:
                continue
            sdk, raw = r[f"{k}.{key}.calls_per_s"], r[f"{k}.raw.calls_per_s"]
            cpu = r[f"{k}.{key}.cpu_us"] / r[f"{k}.raw.cpu_us"]
            # The concurrency targets are judged on the median of three runs
            # (`--runs`); one run's verdict is shown for information.
            judged = tasks in (16, 128) and key in ("ops", "fluent")
            rows.append(
                (
                    f"calls/s, {tasks} concurrent task{'s' if tasks > 1 else ''}: {label} vs raw reqwest (client CPU µs/call)",
                    f"{sdk:,.0f}/s (p50 {f(f'{k}.{key}.p50_us', '{:.0f}')} µs, p99 {f(f'{k}.{key}.p99_us', '{:.0f}')} µs; CPU {f(f'{k}.{key}.cpu_us', '{:.1f}')})",
                    f"{raw:,.0f}/s (CPU {f(k + '.raw.cpu_us', '{:.1f}')})",
                    f"{sdk / raw:.3f} (CPU {cpu:.2f})",
                    "≥ 0.95 (CPU ≤ 1.10), median of 3"
                    if judged
                    else "(report)",
                    (verdict(sdk / raw >= 0.95 and cpu <= 1.10) + " (this run)")
                    if judged
                    else "—",
                )
            )
    gib = size / (1 << 30)
    for direction in ("upload", "download"):
        if f"{direction}.sdk_mb_s" in r:
            ratio = r[f"{direction}.sdk_to_curl"]
            helper = (
                "put_file (streaming PUT)"
                if direction == "upload"
                else "download_descriptor (streaming GET)"
            )
            tool = "curl -T" if direction == "upload" else "curl -o"
            rows.append(
                (
                    f"{direction} {gib:g} GiB: geopera-transfer's {helper} vs {tool} (median MB/s)",
                    f"{f(direction + '.sdk_mb_s')} MB/s",
                    f"{f(direction + '.curl_mb_s')} MB/s",
                    f"{ratio:.3f}",
                    "≥ 0.80",
                    verdict(ratio >= 0.80),
                )
            )
    for key, label in (
        ("rss.upload_kb", "peak RSS: geopera-transfer's `large_file` example uploading"),
        ("rss.download_kb", "peak RSS: geopera-transfer's `download` example downloading"),
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
