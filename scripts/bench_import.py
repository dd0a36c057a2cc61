"""Benchmark bulk import: a generated XLSX of offers (2 % faulty rows), dry run and commit, time and memory.

    .venv/bin/python scripts/bench_import.py                      # 10,000 rows, 3 repeats, baseline 1,000 rows
    .venv/bin/python scripts/bench_import.py --rows 2000 --repeats 1

Each measured run is `techex import FILE --kind offer [--commit]` in a fresh process on a fresh migrated
SQLite database, timed from start to exit (wall seconds, and the process's CPU seconds, which a loaded
machine does not inflate); peak RSS is the largest of the processes. The baseline is the same run on
a tenth of the rows, in the same session: the ratio per row says whether the cost grows linearly. The
workbook is written with openpyxl like a survey spreadsheet; re-running the commit on the same file
checks that the second upload creates nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.migrations import upgrade  # noqa: E402

HEADERS = [
    "Mã hồ sơ",
    "Tổ chức",
    "Loại tổ chức",
    "Tên công nghệ",
    "Tóm tắt",
    "Lĩnh vực",
    "Từ khóa",
    "TRL",
    "Tình trạng sở hữu trí tuệ",
    "Hình thức chuyển giao",
    "Giá từ",
    "Giá đến",
    "Tỉnh/thành phố",
]
TOPICS = [
    ("Vật liệu lọc nano mangan oxit xử lý asen", "Công nghệ môi trường", "xử lý asen, vật liệu lọc"),
    ("Chế phẩm vi sinh xử lý nước thải thủy sản", "Công nghệ sinh học", "xử lý nước thải, vi sinh"),
    ("Đèn chiếu sáng năng lượng mặt trời nối lưới", "năng lượng mới", "điện mặt trời"),
    ("Dây chuyền đúc kim loại cho công nghiệp hỗ trợ", "cơ khí", "đúc kim loại"),
    ("Sơn phủ mái polyester bền thời tiết", "vật liệu mới", "sơn, vật liệu phủ"),
]
INSTITUTES = [f"Viện Nghiên cứu số {i}" for i in range(1, 41)]


def write_workbook(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("offers")
    sheet.append(HEADERS)
    for i in range(rows):
        title, field, keywords = TOPICS[i % len(TOPICS)]
        trl: object = rng.randint(3, 9)
        if rng.random() < 0.02:
            trl = "chưa rõ"  # a faulty cell, reported by the dry run
        low = rng.choice([50, 120, 300, 800]) * 1_000_000
        sheet.append(
            [
                f"KS-{i:06d}",
                rng.choice(INSTITUTES),
                "viện",
                f"{title} (mẫu {i})",
                f"{title}: công nghệ khảo sát năm 2015, đề xuất chuyển giao tại Hải Phòng.",
                field,
                keywords,
                trl,
                rng.choice(["giải pháp hữu ích", "bí quyết", "không"]),
                "li xăng, hợp tác kỹ thuật",
                f"{low:,}".replace(",", "."),
                low * 3,
                "Hải Phòng",
            ]
        )
    workbook.save(path)


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one `techex` process."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    command = [sys.executable, "-m", "app.cli", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu_before
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    # ru_maxrss of children is the largest of any child so far: report it only when this run raised it
    return seconds, cpu, max(peak, before) / 1024, done.stdout.strip().splitlines()[-1]


def measure(rows: int, repeats: int, workdir: Path) -> dict[str, list[float] | str]:
    book = workdir / f"offers-{rows}.xlsx"
    write_workbook(book, rows)
    results: dict[str, list[float] | str] = {
        "dry": [],
        "commit": [],
        "again": [],
        "dry_cpu": [],
        "commit_cpu": [],
        "again_cpu": [],
        "rss": [],
    }
    for repeat in range(repeats):
        url = f"sqlite+aiosqlite:///{workdir / f'bench-{rows}-{repeat}.db'}"
        upgrade(url)
        env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "INDEX_DIR": str(workdir / "index")}
        base = ["import", str(book), "--kind", "offer", "--source", "bench"]
        for key, extra in (("dry", []), ("commit", ["--commit", "--publish"]), ("again", ["--commit", "--publish"])):
            seconds, cpu, rss, summary = run([*base, *extra], env)
            results[key].append(seconds)  # type: ignore[union-attr]
            results[f"{key}_cpu"].append(cpu)  # type: ignore[union-attr]
            results[f"{key}_summary"] = summary
            results["rss"].append(rss)  # type: ignore[union-attr]
    return results


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        baseline_rows = max(1, options.rows // 10)
        baseline = measure(baseline_rows, options.repeats, workdir)
        full = measure(options.rows, options.repeats, workdir)
        size = (workdir / f"offers-{options.rows}.xlsx").stat().st_size
    print(f"file: {options.rows} rows, {size / 1024:.0f} KiB; baseline {baseline_rows} rows; {options.repeats} repeats")
    print(f"{'run':<28}{'median s':>10}{'p95 s':>8}{'CPU s':>8}{'rows/s':>9}{'per-row ratio':>15}")
    for key, label in (("dry", "dry run"), ("commit", "commit (create)"), ("again", "commit again (unchanged)")):
        runs, base = full[key], baseline[key]
        assert isinstance(runs, list)
        assert isinstance(base, list)
        median, base_median = statistics.median(runs), statistics.median(base)
        ratio = (median / options.rows) / (base_median / baseline_rows)
        cpu = statistics.median(full[f"{key}_cpu"])  # type: ignore[arg-type]
        print(f"{label:<28}{median:>10.2f}{p95(runs):>8.2f}{cpu:>8.2f}{options.rows / median:>9.0f}{ratio:>15.2f}")
        print(f"  {full[f'{key}_summary']}")
    rss = full["rss"]
    assert isinstance(rss, list)
    print(f"peak RSS of the import processes: {max(rss):.0f} MiB (baseline {max(baseline['rss']):.0f} MiB)")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
