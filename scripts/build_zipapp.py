"""Build ``dist/hostgw.pyz``: hostgw as one file, for images with Python but no pip.

The archive holds hostgw from this checkout, click (copied from the
interpreter running this script: nothing is downloaded) and a minimal
``hostgw-VERSION.dist-info`` so that ``--version`` works: click is hostgw's
one dependency.

    python3 scripts/build_zipapp.py                     # dist/hostgw.pyz
    python3 scripts/build_zipapp.py -o /tmp/hostgw.pyz
    python3 dist/hostgw.pyz ip                    # any python3 >= 3.10

It is run with the interpreter whose click goes in: a venv made by
``scripts/test``, or any with ``pip install click``.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import sys
import tempfile
import zipapp
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAIN = "from hostgw.__main__ import start\n\nstart()\n"


def version() -> str:
    """The version in pyproject.toml (read as text: tomllib is 3.11+)."""
    text = (ROOT / "pyproject.toml").read_text()
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, flags=re.MULTILINE)
    if found is None:
        raise SystemExit("scripts/build_zipapp.py: no version in pyproject.toml")
    return found.group(1)


def package_dir(name: str) -> Path:
    """Where the importable package ``name`` lives, for copying."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"scripts/build_zipapp.py: {name} is not importable by {sys.executable}")
    return Path(spec.origin).parent


def build(output: Path) -> Path:
    """Write the archive to ``output`` (mode 0755) and return it."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    with tempfile.TemporaryDirectory(prefix="hostgw-pyz-") as tmp:
        stage = Path(tmp)
        shutil.copytree(ROOT / "hostgw", stage / "hostgw", ignore=skip)
        shutil.copytree(package_dir("click"), stage / "click", ignore=skip)
        info = stage / f"hostgw-{version()}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: hostgw\nVersion: {version()}\n"
        )
        (stage / "__main__.py").write_text(MAIN)
        output.parent.mkdir(parents=True, exist_ok=True)
        zipapp.create_archive(stage, output, interpreter="/usr/bin/env python3", compressed=True)
    output.chmod(0o755)
    return output


def main() -> None:
    """Parse the arguments and build."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "dist" / "hostgw.pyz")
    args = parser.parse_args()
    built = build(args.output)
    print(f"{built} ({built.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
