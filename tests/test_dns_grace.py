"""DNS outranks the route table without holding it up (issue 11 part 3, issue 13).

A real resolver of ours, in the "host" namespace, answers ``host.docker.internal``
after a delay far above the grace DNS gets once ``route`` has answered, and
far below its whole bound: ``hostgw ip`` answers from the route and says why,
while ``doctor`` (and ``--strategy dns`` alone) wait the whole bound and take
the DNS answer. A resolver that answers at once still wins over the route:
the order of trust holds. Nothing here is timed; the attempts say what
happened.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.envcases import container, drop_dns, grace_missed, listening, settled
from tests.helpers import hostgw_cmd
from tests.netns import Lab, Netns
from tests.waiting import until

pytestmark = pytest.mark.netns

# A DNS server on UDP 53: A records for the names given, NXDOMAIN otherwise,
# each reply sent DELAY seconds after its query (a thread per query), or at once.
SERVER = r"""
import socket, struct, sys, threading
listen, delay, answers = sys.argv[1], float(sys.argv[2]), dict(a.split("=") for a in sys.argv[3:])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((listen, 53))
def reply(data, peer):
    end, labels = 12, []
    while data[end]:
        labels.append(data[end + 1 : end + 1 + data[end]].decode())
        end += data[end] + 1
    end += 5
    name, qtype = ".".join(labels).lower(), struct.unpack(">H", data[end - 4 : end - 2])[0]
    question = data[12:end]
    if qtype == 1 and name in answers:
        rdata = bytes(int(x) for x in answers[name].split("."))
        body = b"\x81\x80" + struct.pack(">HHHH", 1, 1, 0, 0) + question
        body += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + rdata
    else:
        flags = b"\x81\x80" if name in answers else b"\x81\x83"
        body = flags + struct.pack(">HHHH", 1, 0, 0, 0) + question
    sock.sendto(data[:2] + body, peer)
while True:
    data, peer = sock.recvfrom(512)
    if delay:
        threading.Timer(delay, reply, (data, peer)).start()
    else:
        reply(data, peer)
"""

DELAY = 0.3  # far above the 5 ms grace, far below the 1 s bound


def resolver(lab: Lab, net: int, delay: float) -> Netns:
    """A container namespace whose resolver answers host.docker.internal after ``delay``."""
    host, box, bridge = container(lab, net)
    listen = f"10.213.{net}.53"
    host.ip("addr", "add", f"{listen}/24", "dev", bridge)
    box.ip("route", "add", "default", "via", f"10.213.{net}.1")
    box.resolv(f"nameserver {listen}\noptions timeout:3 attempts:1\n")
    host.spawn(
        sys.executable, "-c", SERVER, listen, str(delay), f"host.docker.internal=10.213.{net}.254"
    )
    until(
        f"the resolver on {listen}:53",
        lambda: listening(host, "-Hlun", f"{listen}:53"),
        timeout=15,
        interval=0.05,
    )
    return box


def hostgw(box: Netns, *args: str) -> dict[str, object]:
    done = box.exec(*hostgw_cmd(), *args, env={"PATH": "/usr/bin:/bin"}, timeout=30)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def dns_attempt(found: dict[str, object]) -> dict[str, object]:
    attempts = found["attempts"]
    assert isinstance(attempts, list)
    return next(a for a in attempts if a["strategy"] == "dns")


def test_a_slow_dns_answer_does_not_hold_up_the_route(lab: Lab) -> None:
    box = resolver(lab, 41, DELAY)
    found = hostgw(box, "ip", "--json")
    assert (found["address"], found["strategy"]) == ("10.213.41.1", "route")
    assert [a["strategy"] for a in found["attempts"]][-2:] == ["dns", "route"]  # type: ignore[attr-defined]
    detail = dns_attempt(found)["detail"]
    assert grace_missed(detail), detail


@pytest.mark.parametrize(
    "argv", [["doctor"], ["ip", "--strategy", "dns"]], ids=["doctor", "dns-only"]
)
def test_with_nothing_below_it_or_in_doctor_dns_gets_its_whole_bound(
    lab: Lab, argv: list[str]
) -> None:
    box = resolver(lab, 42, DELAY)
    found = hostgw(box, *argv, "--json")
    answer = found["answer"] if argv == ["doctor"] else found
    assert isinstance(answer, dict)
    assert (answer["address"], answer["strategy"]) == ("10.213.42.254", "dns")


def test_a_quick_dns_answer_still_outranks_the_route(lab: Lab) -> None:
    # A resolver that answers at once is in well within the grace. On a machine
    # too loaded for that, the route answers, and the dns attempt must say why.
    box = resolver(lab, 43, 0.0)
    found = settled(
        lambda: hostgw(box, "ip", "--json"),
        lambda d: d["strategy"] == "dns",
        lambda d: grace_missed(dns_attempt(d)["detail"]),
    )
    assert (found["address"], found["strategy"]) == ("10.213.43.254", "dns")
    # the route was read while DNS was asked, but the walk stopped at dns
    attempts = found["attempts"]
    assert isinstance(attempts, list)
    assert attempts[-1]["strategy"] == "dns"


def test_lookups_that_never_end_do_not_pile_up(lab: Lab) -> None:
    # The resolver drops every query: each walk gives up on DNS within the grace,
    # and the next walk waits on the same lookup instead of starting another.
    host, box, bridge = container(lab, 44)
    host.ip("addr", "add", "10.213.44.53/24", "dev", bridge)
    drop_dns(host)
    box.ip("route", "add", "default", "via", "10.213.44.1")
    box.resolv("nameserver 10.213.44.53\noptions timeout:10 attempts:3\n")
    code = (
        "import threading, hostgw\n"
        "counts = []\n"
        "for _ in range(5):\n"
        "    found = hostgw.detect(env={})\n"
        "    assert (found.address, found.strategy) == ('10.213.44.1', 'route'), found\n"
        "    counts.append(threading.active_count())\n"
        "print(counts)\n"
    )
    done = box.exec(sys.executable, "-c", code, timeout=60)
    assert done.stdout.strip() == "[2, 2, 2, 2, 2]", done.stdout + done.stderr
