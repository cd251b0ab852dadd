"""Benchmark: ``hostgw rewrite`` against a naive ``sed -E`` on a ~10k-server nginx config.

Run:  python scripts/bench_rewrite.py [--servers 10000] [--runs 9] [--here]
      (with the Python that has hostgw installed, e.g. /tmp/v/bin/python)

Writes a config with SERVERS server blocks (each with a mapped proxy_pass, a
commented-out target, a ``set $up backend:8000`` the rewrite must warn about,
and a decoy host ``backend2``) to a temp dir, then times, in the same run and
alternating:

* sed:    ``sed -E 's#//backend:8000([/;])#//172.17.0.1:18000\\1#g' in > out``
          (the naive replacement: it also rewrites comments and $variables)
* hostgw: ``hostgw rewrite -m backend:8000=18000 -o out in`` (the real CLI,
          interpreter start included), from a venv made for the run with
          hostgw's wheel and click's, compiled, as an image installs them
          (``--here``: this interpreter's venv, its bytecode compiled first;
          without compiled bytecode every run would compile hostgw's
          sources, as it does where ``PYTHONDONTWRITEBYTECODE`` is set),
* the floors of any Python CLI: ``python -c pass`` and ``python -c 'import
  click'`` (hostgw's CLI is click),

and the library call ``rewrite(text, ...)`` alone, in this process. Prints the
median wall time of each and its ratio to sed, and the CLI's ratio to the sed
run beside it, min/median/max over the runs (the goal: CLI <= 4x sed, with
comments and ``$vars`` kept, which sed does not).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BLOCK = """\
server {{
    listen 80;
    server_name site{i}.example.com;
    # proxy_pass http://backend:8000/old/;
    location / {{
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_pass http://backend:8000/app{i}/;
    }}
    location /static/ {{ proxy_pass http://backend2:8000; }}
    location /dyn/ {{ set $up backend:8000; proxy_pass http://$up; }}
}}
"""


def make_config(servers: int) -> str:
    """A config with ``servers`` server blocks inside one http block."""
    body = "".join(BLOCK.format(i=i) for i in range(servers))
    return f"events {{}}\nhttp {{\n{body}}}\n"


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of one run of ``argv``; fails loudly if it fails."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def installed(base: Path, *, here: bool) -> Path:
    """The python whose ``hostgw`` is timed: a fresh venv's, or (``here``) this one's."""
    if not here:
        from bench_startup import fresh_venv  # the same venv as the start-up figures

        return fresh_venv(base)
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "hostgw")], check=True)
    return Path(sys.executable)


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--here", action="store_true", help="time this interpreter's own venv")
    args = parser.parse_args()

    env = {**os.environ, "HOSTGW_IP": "172.17.0.1"}
    with tempfile.TemporaryDirectory(prefix="hostgw-bench-") as tmp:
        python = installed(Path(tmp), here=args.here)
        hostgw = str(python.with_name("hostgw"))
        src = Path(tmp) / "nginx.conf"
        text = make_config(args.servers)
        src.write_text(text)
        out_sed, out_hgw = Path(tmp) / "sed.conf", Path(tmp) / "hostgw.conf"
        commands = {
            "sed": [
                "sh",
                "-c",
                'sed -E \'s#//backend:8000([/;])#//172.17.0.1:18000\\1#g\' "$0" > "$1"',
                str(src),
                str(out_sed),
            ],
            "hostgw": [
                hostgw,
                "rewrite",
                "-q",
                "-m",
                "backend:8000=18000",
                "-o",
                str(out_hgw),
                str(src),
            ],
            "python": [str(python), "-c", "pass"],
            "click": [str(python), "-c", "import click"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for argv in commands.values():  # warm the page cache and the .pyc files
            timed(argv, env)
        for _ in range(args.runs):
            for name, argv in commands.items():
                times[name].append(timed(argv, env))
        ratios = sorted(h / s for h, s in zip(times["hostgw"], times["sed"], strict=True))

        from hostgw.rewriting import rewrite

        lib: list[float] = []
        for _ in range(args.runs):
            start = time.perf_counter()
            result = rewrite(text, ["backend:8000=18000"], format="nginx", gateway="172.17.0.1")
            lib.append(time.perf_counter() - start)

        sed_out, hgw_out = out_sed.read_text(), out_hgw.read_text()
        assert hgw_out == result.text
        assert len(result.changes) == args.servers
        # comments and $variables kept, the decoy left alone
        for kept in ("# proxy_pass http://backend:8000/old/;", "set $up backend:8000;", "backend2"):
            assert hgw_out.count(kept) == args.servers, kept
        wrong = sed_out.count("# proxy_pass http://172.17.0.1") + sed_out.count(
            "set $up 172.17.0.1"
        )

    med = {k: statistics.median(v) for k, v in times.items()}
    med["library"] = statistics.median(lib)
    sed = med["sed"]
    print(
        f"config: {args.servers} server blocks, {len(text) / 1e6:.1f} MB, "
        f"{len(result.changes)} targets rewritten, {len(result.notes)} warnings, "
        f"{args.runs} runs (median, ratio to sed)"
    )
    print("hostgw: " + ("this venv, compiled" if args.here else "a fresh venv with its wheel"))
    rows = [
        ("sed -E", "sed", f"also rewrote {wrong} comments/variables it should not have"),
        (
            "hostgw rewrite (CLI)",
            "hostgw",
            "goal <= 4.00x: " + ("met" if med["hostgw"] <= 4 * sed else "NOT met"),
        ),
        ("library rewrite() alone", "library", "in this process, no start-up"),
        ("python -c pass", "python", "floor: interpreter start"),
        ("python -c 'import click'", "click", "floor: any click CLI"),
    ]
    for label, key, note in rows:
        print(f"{label:26s} {med[key] * 1000:8.1f} ms  {med[key] / sed:6.2f}x   {note}")
    low, mid, high = ratios[0], statistics.median(ratios), ratios[-1]
    print(f"CLI / sed run by run: min {low:.2f}x  median {mid:.2f}x  max {high:.2f}x")


if __name__ == "__main__":
    main()
