"""``hostgw rewrite`` on other people's configs: the peer corpus in ``../shared/peers/rewrite/``.

For every config of the corpus (see tests/rewrite_peers.py):

- only the expected target spans change, and every expected target changes
  (byte offsets from the corpus's ``expect``);
- the real proxy accepts the output wherever it accepted the input, and
  where it rejects the input it says the same of the output;
- a second run changes nothing;
- an in-place run, after one with another gateway, gives the same bytes
  (it rewrites from the kept original).

Configs the corpus marks as broken must give the exit codes it allows.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from hostgw.errors import HostgwError
from hostgw.rewriting import parse_mappings
from hostgw.rewriting.apply import run
from tests import rewrite_peers as peers
from tests.helpers import peers_dir

CORPUS = peers.corpus()
CASES = CORPUS.cases if CORPUS else ()
OTHER_GATEWAY = "10.254.0.77"
NO_SKIP = os.environ.get("HOSTGW_NO_SKIP") == "1"
# Inputs the Debian proxies here accept (the corpus was also made with newer
# releases): a floor, so the proxy check cannot quietly become vacuous.
ACCEPTED_FLOOR = {"nginx": 125, "haproxy": 60, "apache": 85, "caddy": 85}


def _ids(case: peers.Case) -> str:
    return case.id


def test_the_corpus_is_there() -> None:
    if CORPUS is None:
        where = peers_dir() / "rewrite" / "index.json"
        message = f"no rewrite peer corpus at {where} (set HOSTGW_PEERS to its directory)"
        if NO_SKIP:
            pytest.fail(message)
        pytest.skip(message)
    assert len(CASES) == 555
    assert {c.format for c in CASES} == {"nginx", "haproxy", "apache", "caddy"}


def _gateway(address: str) -> object:
    return lambda: address


def _files(root: Path, case: peers.Case) -> dict[str, Path]:
    """The case's files under ``root`` (a copy of the corpus, or the corpus itself)."""
    return {rel: root / rel for rel in case.files()}


def _rewrite(
    case: peers.Case, root: Path, *, gateway: str, state: Path, write: bool, in_place: bool
) -> dict[str, tuple[bytes, bytes]] | HostgwError:
    """``{file: (bytes before, bytes after)}`` of one run, or the error it raised."""
    main = root / case.file
    try:
        plan = run(
            [main],
            parse_mappings(case.maps),
            fmt=case.format,
            output=None if in_place else state / "out",
            write=write,
            follow_includes=bool(case.includes),
            gateway=_gateway(gateway),  # type: ignore[arg-type]
            state_dir=state,
            env={},
        )
    except HostgwError as exc:
        return exc
    from hostgw.rewriting.files import encode

    return {
        str(f.path.relative_to(root)): (encode(f.current), encode(f.result.text))
        for f in plan.files
    }


@cache
def _first_run(case: peers.Case) -> dict[str, tuple[bytes, bytes]] | HostgwError:
    """The rewrite of the corpus's own files (nothing written), once per case."""
    assert CORPUS is not None
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hostgw-peers-") as state:
        return _rewrite(
            case,
            CORPUS.root,
            gateway=CORPUS.gateway,
            state=Path(state),
            write=False,
            in_place=bool(case.includes),
        )


def _outcome(case: peers.Case) -> dict[str, tuple[bytes, bytes]] | None:
    """The first run's files, or None when it failed as the corpus allows."""
    found = _first_run(case)
    allowed = case.rc or (0,)
    if isinstance(found, HostgwError):
        assert found.exit_code in allowed, f"exit {found.exit_code}, allowed {allowed}: {found}"
        return None
    assert 0 in allowed, f"no error, but the corpus expects exit {allowed}"
    # The corpus also names files a run must not touch (hidden, not matched).
    assert set(found) <= set(case.files()), "the run read files the corpus does not name"
    assert case.file in found
    return found


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_nothing_outside_the_targets_changes(case: peers.Case) -> None:
    files = _outcome(case)
    for rel, (before, after) in (files or {}).items():
        assert peers.judge(before, after, case.files()[rel]).outside == [], rel


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_expected_target_changes(case: peers.Case) -> None:
    files = _outcome(case)
    for rel, (before, after) in (files or {}).items():
        assert peers.judge(before, after, case.files()[rel]).missed == [], rel


def _copy(case: peers.Case, tmp: Path) -> Path:
    """The case's file (or, with includes, its directory) copied under ``tmp``; the copy's root."""
    assert CORPUS is not None
    top = Path(case.file).parts[0]
    source = CORPUS.root / Path(case.file).parent if case.includes else CORPUS.root / case.file
    target = tmp / source.relative_to(CORPUS.root)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    assert (tmp / top).exists()
    return tmp


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_a_second_run_changes_nothing(case: peers.Case, tmp_path: Path) -> None:
    files = _outcome(case)
    if files is None or case.directory:
        return
    root = _copy(case, tmp_path / "tree")
    for rel, (_, after) in files.items():
        (root / rel).write_bytes(after)
    again = _rewrite(
        case,
        root,
        gateway=CORPUS.gateway,  # type: ignore[union-attr]
        state=tmp_path / "state",
        write=False,
        in_place=bool(case.includes),
    )
    assert not isinstance(again, HostgwError), again
    assert {rel: after for rel, (_, after) in again.items()} == {
        rel: after for rel, (_, after) in files.items()
    }


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_in_place_from_the_kept_original(case: peers.Case, tmp_path: Path) -> None:
    files = _outcome(case)
    if files is None or case.directory:
        return
    assert CORPUS is not None
    root = _copy(case, tmp_path / "tree")
    state = tmp_path / "state"
    for gateway in (OTHER_GATEWAY, CORPUS.gateway, CORPUS.gateway):
        done = _rewrite(case, root, gateway=gateway, state=state, write=True, in_place=True)
        assert not isinstance(done, HostgwError), done
    for rel, path in _files(root, case).items():
        expected = peers.apply_edits((CORPUS.root / rel).read_bytes(), case.files()[rel])
        assert path.read_bytes() == expected, rel


# -- The proxies' own verdict --------------------------------------------------
PROXY_CASES = tuple(c for c in CASES if c.valid and not c.directory)


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[peers.Case, peers.ProxyVerdict]:
    """The proxies' verdict on every valid input and its output, in one batch."""
    why = peers.namespace_reason()
    if why is not None:
        pytest.skip(why)
    assert CORPUS is not None
    outputs = {}
    for case in PROXY_CASES:
        found = _first_run(case)
        files = {} if isinstance(found, HostgwError) else found  # an error writes nothing
        outputs[case] = {rel: after for rel, (before, after) in files.items() if after != before}
    return peers.proxy_verdicts(CORPUS, outputs, tmp_path_factory.mktemp("peers-proxies"))


@pytest.mark.proxies
@pytest.mark.parametrize("case", PROXY_CASES, ids=_ids)
def test_the_proxy_accepts_the_output(
    case: peers.Case, verdicts: dict[peers.Case, peers.ProxyVerdict]
) -> None:
    assert verdicts[case].problem is None, verdicts[case].problem


@pytest.mark.proxies
def test_the_proxies_accept_most_inputs(verdicts: dict[peers.Case, peers.ProxyVerdict]) -> None:
    accepted = Counter(case.format for case, v in verdicts.items() if v.accepted)
    for fmt, floor in ACCEPTED_FLOOR.items():
        assert accepted[fmt] >= floor, f"{fmt}: only {accepted[fmt]} inputs accepted"
