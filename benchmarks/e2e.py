"""End-to-end crawl throughput: pipelines on vs off, in one run.

Serves N synthetic Arabic stories (default 2,000) as an RSS feed plus article pages on
127.0.0.1, then crawls them twice into fresh SQLite databases, each crawl in its own
process (the Twisted reactor cannot restart):

- ``on``:  every pipeline (normalize → dedupe → match → store, alerts queued);
- ``off``: the same crawl with ``ITEM_PIPELINES = {}``.

Prints stories/s for both and the ratio; target: pipelines cost ≤ 25 % of crawl time,
i.e. ``on`` reaches ≥ 0.75 × the stories/s of ``off``.

    python benchmarks/e2e.py [--stories 2000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _site import Site

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys
from crawler.config import load_config
from crawler.runner import crawl
config = load_config(sys.argv[1])
overrides = {"LOG_LEVEL": "ERROR", "WIREWATCH_PROGRESS_INTERVAL": 0,
             "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
             "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 32}
if sys.argv[2] == "off":
    overrides["ITEM_PIPELINES"] = {}
report, = crawl(config, config.sources, overrides)
print(json.dumps({"items": report.get("item_scraped_count"),
                  "stored": report.get("store/stored"),
                  "pages": report.get("response_received_count"),
                  "seconds": report.stats.get("elapsed_time_seconds"),
                  "errors": report.errors}))
"""


def run_once(site: Site, mode: str, folder: Path) -> dict[str, float]:
    config = folder / f"{mode}.yaml"
    (folder / "watchlist.yaml").write_text(
        "rules:\n  - name: russia-troops\n    all: [Russia, troops]\n"
        "  - name: china\n    all: [China]\n",
        encoding="utf-8",
    )
    config.write_text(
        f"database: sqlite:///{mode}.db\n"
        f"sources:\n  - name: bench\n    type: feed\n    url: {site.base}/feed.xml\n"
        "watchlists: [watchlist.yaml]\nchannels:\n  terminal:\n    type: console\n",
        encoding="utf-8",
    )
    for leftover in folder.glob(f"{mode}.db*"):
        leftover.unlink()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(config), mode],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{mode} crawl failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with Site(args.stories) as site, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.repeat):
            for mode in ("off", "on"):
                r = run_once(site, mode, folder)
                if mode not in best or r["seconds"] < best[mode]["seconds"]:
                    best[mode] = r
    print(f"stories served: {args.stories}")
    for mode in ("off", "on"):
        r = best[mode]
        rate = r["items"] / r["seconds"]
        print(
            f"pipelines {mode:>3}: {r['items']:.0f} stories in {r['seconds']:.2f} s crawl "
            f"({r['wall']:.2f} s with start-up) = {rate:,.0f} stories/s, "
            f"{r['stored']:.0f} stored, {r['errors']:.0f} errors"
        )
    on = best["on"]["items"] / best["on"]["seconds"]
    off = best["off"]["items"] / best["off"]["seconds"]
    cost = 1 - on / off
    print(f"ratio on/off: {on / off:.2f}  (pipelines cost {cost:.0%} of crawl time; target ≤ 25%)")


if __name__ == "__main__":
    main()
