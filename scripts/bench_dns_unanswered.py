"""What an unanswered resolver costs ``hostgw ip`` on a real Docker user network.

Run as root after ``bash scripts/test`` has installed Docker and the wheels:

    sudo .venv-3.11/bin/python scripts/bench_dns_unanswered.py [ROUNDS]

It starts dockerd in a namespace of its own (tests/runtime), puts a client on
a user network whose embedded resolver (127.0.0.11) forwards to an address on
the made-up LAN that nobody holds, so queries go unanswered, and times inside
the container, ROUNDS times each (default 7):

- ``hostgw ip --strategy route``: the anchor, the route table alone;
- ``hostgw ip``: the default order of trust (dns comes before route);
- ``hostgw ip`` on a user network whose upstream refuses (127.0.0.1 in the
  daemon's namespace, as every other runtime test has it);
- ``hostgw ip`` on the default bridge, where the container itself asks
  127.0.0.1 (refused at once).

It prints the medians and their ratios to the anchor. Everything it made is
removed at the end, by name and pid.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.netns import Lab  # noqa: E402
from tests.runtime import images  # noqa: E402
from tests.runtime.docker import Dockerd, DockerScope  # noqa: E402
from tests.runtime.lan import Lan  # noqa: E402

TIMER = """
import json, subprocess, sys, time
rounds, argv = int(sys.argv[1]), sys.argv[2:]
out = []
for _ in range(rounds):
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    out.append((time.perf_counter() - start, done.returncode, done.stdout.strip()))
print(json.dumps(out))
"""


def timed(scope: DockerScope, client: str, rounds: int, *argv: str) -> tuple[float, str]:
    """Median seconds of ``argv`` run ROUNDS times inside ``client``, and its answer."""
    done = scope.exec(client, "python3", "-c", TIMER, str(rounds), *argv, timeout=600)
    runs = json.loads(done.stdout)
    assert all(code == 0 for _, code, _ in runs), runs
    return statistics.median(t for t, _, _ in runs), runs[0][2]


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    lab = Lab()
    try:
        lan = Lan(lab)
        with tempfile.TemporaryDirectory(prefix="hostgw-bench-") as tmp:
            daemon = Dockerd(lan.host("hgwdh"), Path(tmp))
            scope = DockerScope(daemon)
            try:
                images.make_images(
                    daemon.cli, images.base_tarball(), images.wheelhouse(Path(tmp) / "wheels")
                )
                net = scope.network()
                silent = scope.run("--network", net, "--dns", "10.214.0.99", images.CLIENT)
                refusing = scope.run("--network", net, images.CLIENT)
                bridge = scope.run(images.CLIENT)
                anchor, answer = timed(scope, silent, rounds, "hostgw", "ip", "--strategy", "route")
                rows = [("hostgw ip --strategy route (anchor)", anchor)]
                for label, client in (
                    ("hostgw ip, upstream unanswered", silent),
                    ("hostgw ip, upstream refuses", refusing),
                ):
                    median, same = timed(scope, client, rounds, "hostgw", "ip")
                    assert same == answer, (same, answer)
                    rows.append((label, median))
                median, _ = timed(scope, bridge, rounds, "hostgw", "ip")
                rows.append(("hostgw ip, default bridge (resolver 127.0.0.1)", median))
            finally:
                scope.close()
                daemon.close()
    finally:
        lab.close()
    print(f"user network answer {answer} (route); {rounds} rounds each, medians in the container:")
    for label, median in rows:
        print(f"  {label:<48} {median * 1000:7.1f} ms  {median / anchor:5.2f}")


if __name__ == "__main__":
    main()
