"""The rewrite peer corpus (``../shared/peers/rewrite/``): read it, judge results, ask the proxies.

The corpus is other people's configs (crossplane, nginx-tests, h5bp, Debian,
HAProxy's reg-tests, httpd's docs, Caddy's tests and docs) plus adversarial
ones, each with the byte offsets of the targets a rewrite must change.
``HOSTGW_PEERS`` overrides where the peers directory is.

:func:`judge` compares a result with those offsets; :func:`check_all` runs the
real proxies' config tests on many files in one private mount and network
namespace, where the corpus's ``hosts`` file is ``/etc/hosts`` and no query can
leave the machine. Run as ``python -m tests.rewrite_peers JOBS RESULTS`` it is
the worker inside that namespace.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import NamedTuple

from tests.helpers import peers_dir

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 60


class Edit(NamedTuple):
    """One expected change: at byte ``at``, ``old`` becomes ``new``."""

    at: int
    old: bytes
    new: bytes


class Case(NamedTuple):
    """One config of the corpus and what a rewrite of it must do."""

    file: str  # relative to the rewrite/ directory
    format: str
    maps: tuple[str, ...]
    edits: tuple[Edit, ...]
    context: str
    valid: bool  # the proxy accepted the input when the corpus was made
    rc: tuple[int, ...] | None  # the exit codes allowed, when not simply 0
    includes: tuple[tuple[str, tuple[Edit, ...]], ...]  # --follow-includes: (file, its edits)
    directory: bool  # the "config" is a directory

    @property
    def id(self) -> str:
        """The test id: the file's path in the corpus."""
        return self.file

    def files(self) -> dict[str, tuple[Edit, ...]]:
        """Every file the rewrite touches, with its edits (the case's own first)."""
        return {self.file: self.edits, **dict(self.includes)}


class Corpus(NamedTuple):
    """The index: where the files are, the gateway, the hosts file, the dirs, the cases."""

    root: Path
    gateway: str
    hosts: Path
    dirs: dict[str, str]
    cases: tuple[Case, ...]


def _edits(rows: Iterable[Sequence[object]]) -> tuple[Edit, ...]:
    return tuple(Edit(int(at), str(old).encode(), str(new).encode()) for at, old, new in rows)  # type: ignore[call-overload]


@cache
def corpus() -> Corpus | None:
    """The corpus, or None when its index is not there."""
    root = peers_dir() / "rewrite"
    index = root / "index.json"
    if not index.is_file():
        return None
    data = json.loads(index.read_text())
    cases = tuple(
        Case(
            file=c["file"],
            format=c["format"],
            maps=tuple(c["maps"]),
            edits=_edits(c["expect"]),
            context=c.get("context", ""),
            valid=c.get("validate") is not False and not c.get("syntax_error"),
            rc=tuple(c["expect_rc"]) if c.get("expect_rc") else None,
            includes=tuple((f, _edits(e)) for f, e in (c.get("follow_includes") or {}).items()),
            directory=c.get("kind") == "directory",
        )
        for c in data["configs"]
    )
    return Corpus(root, data["gateway"], root / "hosts", dict(data.get("dirs", {})), cases)


# -- Judging a result ----------------------------------------------------------
# HAProxy's family prefixes: ipv4@ and ipv6@ (tcp4@, tcp6@) are part of the
# address, and one that no longer fits the new address changes with it.
_FAMILY = re.compile(rb"(ipv|tcp)([46])@\Z", re.IGNORECASE)


def with_family(data: bytes, edits: Iterable[Edit]) -> list[Edit]:
    """``edits`` with an HAProxy family prefix before a target made to fit the new address."""
    out = []
    for e in edits:
        m = _FAMILY.search(data, max(0, e.at - 5), e.at)
        family = b"6" if e.new.startswith(b"[") else b"4"
        if m is None or m.group(2) == family:
            out.append(e)
        else:
            prefix = m.group(1) + family + b"@"
            out.append(Edit(m.start(), data[m.start() : e.at] + e.old, prefix + e.new))
    return out


def _line(data: bytes, at: int) -> int:
    return data.count(b"\n", 0, at) + 1


def _around(data: bytes, at: int) -> str:
    return repr(data[max(0, at - 30) : at + 30].decode("utf-8", "replace"))


class Verdict(NamedTuple):
    """What is wrong with a result: bytes changed outside the targets, targets missed."""

    outside: list[str]
    missed: list[str]


def judge(data: bytes, out: bytes, edits: Iterable[Edit]) -> Verdict:
    """Compare ``out``, the rewrite of ``data``, with the expected ``edits``.

    Every byte outside the expected targets must stay, and every expected
    target must become its new value.
    """
    verdict = Verdict([], [])
    pos = 0  # in out
    prev = 0  # in data
    for e in sorted(with_family(data, edits)):
        if data[e.at : e.at + len(e.old)] != e.old:
            raise AssertionError(f"the corpus says {e.old!r} is at byte {e.at}; it is not")
        keep = data[prev : e.at]
        if not out.startswith(keep, pos):
            verdict.outside.append(_outside(data, out, prev, pos, len(keep)))
            return verdict
        pos += len(keep)
        where = f"line {_line(data, e.at)}: {e.old!r}"
        if out.startswith(e.new, pos):
            pos += len(e.new)
        elif out.startswith(e.old, pos):
            verdict.missed.append(f"{where} was not rewritten to {e.new!r}")
            pos += len(e.old)
        else:
            got = out[pos : pos + len(e.new) + 10]
            verdict.outside.append(f"{where} became {got!r}..., not {e.new!r}")
            return verdict
        prev = e.at + len(e.old)
    if out[pos:] != data[prev:]:
        verdict.outside.append(_outside(data, out, prev, pos, len(data) - prev))
    return verdict


def _outside(data: bytes, out: bytes, prev: int, pos: int, size: int) -> str:
    """The first change outside the targets, in the ``size`` bytes at ``prev``."""
    n = 0
    while n < size and pos + n < len(out) and data[prev + n] == out[pos + n]:
        n += 1
    at = prev + n
    return (
        f"line {_line(data, at)}: a byte outside the targets changed at {at}: "
        f"{_around(data, at)} became {_around(out, pos + n)}"
    )


def apply_edits(data: bytes, edits: Iterable[Edit]) -> bytes:
    """``data`` with the expected ``edits`` made: what a rewrite must write."""
    parts, prev = [], 0
    for e in sorted(with_family(data, edits)):
        parts += [data[prev : e.at], e.new]
        prev = e.at + len(e.old)
    return b"".join([*parts, data[prev:]])


# -- The proxies' own checks -----------------------------------------------------
class Job(NamedTuple):
    """One config test: its id, the command, the extra environment."""

    id: str
    argv: list[str]
    env: dict[str, str]


# Modules the Apache wrapper loads (what the corpus's directives need).
_APACHE_MODULES = (
    "mpm_event authz_core authz_host authn_core auth_basic access_compat alias dir mime "
    "env setenvif headers rewrite filter substitute deflate ssl socache_shmcb slotmem_shm "
    "watchdog proxy proxy_http proxy_http2 proxy_ajp proxy_fcgi proxy_scgi proxy_uwsgi "
    "proxy_wstunnel proxy_connect proxy_ftp proxy_balancer proxy_hcheck proxy_express "
    "lbmethod_byrequests lbmethod_bytraffic lbmethod_bybusyness xml2enc proxy_html http2 "
    "log_config logio cache cache_disk status info macro"
)


@cache
def _nginx_modules() -> tuple[str, ...]:
    """The dynamic modules Debian's nginx loads (Lua, stream), as absolute paths."""
    found = []
    for conf in sorted(Path("/etc/nginx/modules-enabled").glob("*.conf")):
        for name in re.findall(r"load_module\s+(\S+);", conf.read_text()):
            found.append(name if name.startswith("/") else f"/usr/share/nginx/{name}")
    return tuple(found)


def accepted(fmt: str, rc: int, output: str) -> bool:
    """Whether a config test's exit code and output mean the proxy accepts the config.

    ``haproxy -c`` exits 2 for a valid config with no listener.
    """
    return rc == 0 or (fmt == "haproxy" and rc == 2 and "has no error" in output)


def _tool(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def job(fmt: str, context: str, conf: Path, work: Path, job_id: str) -> Job:
    """The proxy's config test of ``conf`` (written for ``context``) as a :class:`Job`.

    A fragment is tested inside a small wrapper main config written beside
    it (so its relative paths resolve where they would).
    """
    wrap = conf.with_name(f".wrap-{conf.name}")
    env = {
        "HOME": str(work),
        "XDG_DATA_HOME": str(work / "data"),
        "XDG_CONFIG_HOME": str(work / "config"),
    }
    if fmt == "nginx":
        inner = {
            "http": f"http {{ include {conf}; }}",
            "server": f"http {{ server {{ include {conf}; }} }}",
            "location": f"http {{ server {{ location / {{ include {conf}; }} }} }}",
            "main-fragment": f"include {conf};",
        }.get(context)
        given = conf
        if inner is not None:
            given = wrap
            wrap.write_text(f"events {{}}\n{inner}\n")
        # A main config that loads Debian's modules itself needs Debian's prefix.
        own = b"modules-enabled" in conf.read_bytes()
        prefix = "/usr/share/nginx/" if own else f"{work}/"
        argv = [_tool("nginx"), "-t", "-q", "-p", prefix, "-c", str(given)]
        argv += ["-e", str(work / "nginx-error.log")]
        if not own:
            argv += ["-g", "".join(f"load_module {m};" for m in _nginx_modules())]
        return Job(job_id, argv, env)
    if fmt == "haproxy":
        return Job(job_id, [_tool("haproxy"), "-c", "-f", str(conf)], env)
    if fmt == "apache":
        # Debian's configs name ${APACHE_LOG_DIR} and the like, set by its envvars.
        argv = ["sh", "-c", '. /etc/apache2/envvars && exec "$@"', "sh", _tool("apache2"), "-t"]
        if context == "debian-main":
            return Job(job_id, [*argv, "-d", "/etc/apache2", "-f", str(conf)], env)
        run = work / "apache-run"
        run.mkdir(exist_ok=True)
        loads = "".join(
            f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n"
            for m in _APACHE_MODULES.split()
            if Path(f"/usr/lib/apache2/modules/mod_{m}.so").exists()
        )
        wrap.write_text(
            f"ServerRoot {conf.parent}\nServerName localhost\n{loads}"
            f"DefaultRuntimeDir {run}\nPidFile {run}/httpd.pid\nErrorLog {run}/error.log\n"
            f"Mutex file:{run} default\nInclude {conf}\n"
        )
        return Job(job_id, [*argv, "-f", str(wrap)], env)
    given = conf
    if context == "caddy-d":
        given = wrap
        wrap.write_text(f"http://localhost:8099 {{\n\timport {conf}\n}}\n")
    argv = [_tool("caddy"), "validate", "--adapter", "caddyfile", "--config", str(given)]
    # Each validation its own storage: two that make the local CA at once in one
    # directory read each other's half-written certificates ("no PEM block found").
    store = work / "caddy" / re.sub(r"[^A-Za-z0-9._-]", "_", job_id)
    env = {**env, "XDG_DATA_HOME": str(store / "data"), "XDG_CONFIG_HOME": str(store / "config")}
    return Job(job_id, argv, env)


def namespace_reason() -> str | None:
    """Why the proxies cannot be run in a private namespace here (None: they can)."""
    if os.geteuid() != 0:
        return "needs root (a private mount namespace for the corpus's /etc/hosts)"
    for name in ("unshare", "nginx", "haproxy", "apache2", "caddy"):
        if shutil.which(name) is None and not Path(f"/usr/sbin/{name}").exists():
            return f"needs {name}"
    return None


def check_all(all_jobs: Sequence[Job], hosts: Path, work: Path) -> dict[str, tuple[int, str]]:
    """``{job id: (exit code, output)}`` of every job, run in one private namespace.

    In it the corpus's ``hosts`` is ``/etc/hosts``, the resolver is a
    loopback address, and only a loopback interface (down) exists.
    """
    jobs_file, results = work / "jobs.json", work / "results.json"
    jobs_file.write_text(json.dumps([j._asdict() for j in all_jobs]))
    resolv = work / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")
    script = (
        'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 '
        '&& ip link set lo up && exec "$@"'
    )
    argv = ["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script, "sh"]
    argv += [str(hosts), str(resolv), sys.executable, "-m", "tests.rewrite_peers"]
    proc = subprocess.run(
        [*argv, str(jobs_file), str(results)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * len(all_jobs),
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"the namespace for the proxies failed: {proc.stderr}")
    found = json.loads(results.read_text())
    return {k: (int(v[0]), str(v[1])) for k, v in found.items()}


def _run(job: Job) -> tuple[str, tuple[int, str]]:
    try:
        proc = subprocess.run(
            job.argv,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT,
            env={**os.environ, **job.env},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return job.id, (-1, f"timed out after {TIMEOUT}s")
    return job.id, (proc.returncode, (proc.stderr + proc.stdout).strip())


def _worker(jobs_file: str, results: str) -> None:
    """Inside the namespace: run every job, two at a time, and write the results."""
    todo = [Job(**j) for j in json.loads(Path(jobs_file).read_text())]
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(pool.map(_run, todo))
    fd, tmp = tempfile.mkstemp(dir=Path(results).parent)
    with os.fdopen(fd, "w") as f:
        json.dump(done, f)
    os.replace(tmp, results)


class ProxyVerdict(NamedTuple):
    """What the proxy said: whether it accepted the input, and what is wrong (None: nothing)."""

    accepted: bool
    problem: str | None


def _normal(message: str, work: Path) -> str:
    """A proxy's message without what differs between runs: our dirs, pids, times, quotes.

    (A quoted part may hold the target itself; Caddy's JSON log lines carry times.)
    """
    message = message.replace(str(work / "out"), str(work / "in"))
    lines = [line for line in message.splitlines() if not line.startswith("{")]
    message = "\n".join(lines)
    message = re.sub(r"\(\d+\)|\[[^]]*\d\d:\d\d:\d\d[^]]*\]|\[pid [^]]*\]", "", message)
    return re.sub(r'"[^"\n]*"', '""', message)


@contextlib.contextmanager
def corpus_dirs(dirs: Iterable[str]) -> Iterator[None]:
    """The fixed directories the corpus's configs name (``dirs`` in the index), while inside.

    Only those that did not exist are made, and only those are removed.
    """
    made = [Path(d) for d in dirs if not Path(d).exists()]
    try:
        for path in made:
            path.mkdir(parents=True)
        yield
    finally:
        for path in reversed(made):
            shutil.rmtree(path, ignore_errors=True)


def proxy_verdicts(
    found: Corpus, outputs: dict[Case, dict[str, bytes]], work: Path
) -> dict[Case, ProxyVerdict]:
    """Run the proxy on each case's input and (where it changed) its output.

    ``outputs`` maps a case to the new bytes of each file it changed (paths
    relative to the corpus). The output passes when the proxy accepts it
    wherever it accepted the input, and otherwise says of it what it said
    of the input (the rewrite added no error of its own).
    """
    for side in ("in", "out"):
        list(copy_tree(found.root, work / side))
    todo: list[Job] = []
    for case, files in outputs.items():
        for rel, data in files.items():
            (work / "out" / rel).write_bytes(data)
        sides = ("in", "out") if files else ("in",)
        for side in sides:
            conf = work / side / case.file
            todo.append(job(case.format, case.context, conf, work, f"{side}:{case.file}"))
    with corpus_dirs(found.dirs.values()):
        results = check_all(todo, found.hosts, work)
    verdicts = {}
    for case, files in outputs.items():
        rc, said = results[f"in:{case.file}"]
        ok = accepted(case.format, rc, said)
        if not files:
            verdicts[case] = ProxyVerdict(ok, None)
            continue
        out_rc, out_said = results[f"out:{case.file}"]
        problem = None
        if not accepted(case.format, out_rc, out_said):
            if ok:
                problem = f"the proxy accepts the input but rejects the output:\n{out_said}"
            elif _normal(out_said, work) != _normal(said, work):
                problem = (
                    f"the proxy rejects the input and says more of the output:\n"
                    f"input: {said}\noutput: {out_said}"
                )
        verdicts[case] = ProxyVerdict(ok, problem)
    return verdicts


def copy_tree(src: Path, dst: Path) -> Iterator[Path]:
    """Copy the corpus tree ``src`` to ``dst`` (writable); yield every file copied."""
    for path in sorted(src.rglob("*")):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            yield target


if __name__ == "__main__":
    _worker(*sys.argv[1:3])
