"""The strategies: small functions that each look in one place for the host.

Each takes a :class:`~hostgw.detection.evidence.Context` and returns an
:class:`~hostgw.detection.evidence.Outcome`: its findings with evidence (file
and line, route line, variable), or none and the reason. Each catches only
the errors it expects. :mod:`hostgw.detection.table` lists them, with their
facts, in the default order of trust.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Literal

from hostgw.addr import (
    address_problem,
    family_name,
    host_problem,
    is_hostname,
    is_link_local,
    is_unspecified,
    parse_ip,
    zone_problem,
)
from hostgw.detection.evidence import EVERYTHING, Context, Finding, Outcome

if TYPE_CHECKING:
    from hostgw.detection.own import LinkKind, OwnAddresses
    from hostgw.detection.resolve import Lookups, Resolution

# Calico's fixed IPv6 next hop (MAC ee:ee:ee:ee:ee:ee), answered by the host
# side of the veth for every pod: like 169.254.1.1 for IPv4, not the node.
CALICO_V6_GATEWAY = "fe80::ecee:eeff:feee:eeee"

# Probe destinations for "which route would the kernel use": documented
# public resolvers. A route lookup sends no packet.
_PROBE_DST = {4: "1.1.1.1", 6: "2606:4700:4700::1111"}


def judge_gateway(address: str, family: int, iface: str) -> tuple[str | None, str]:
    """Accept a route's next hop as the host, or reject it, saying why.

    - IPv4 link-local (169.254.0.0/16): a CNI's stand-in answered by proxy
      ARP (Calico's 169.254.1.1, the AWS VPC CNI); never the node.
    - Calico's IPv6 ``fe80::ecee:eeff:feee:eeee``: the same trick.
    - Other IPv6 link-local next hops are real neighbours, but only usable
      with the interface: ``fe80::1`` becomes ``fe80::1%eth0``, unless the
      interface's name cannot be a zone (:func:`hostgw.addr.zone_problem`).
    """
    if is_unspecified(address):
        return None, f"next hop {address} is unspecified"
    if is_link_local(address):
        if family == 4:
            return None, (
                f"gateway {address} is link-local: a CNI's stand-in answered by proxy ARP "
                "(Calico, AWS VPC CNI), not the node; pass the node address as HOST_IP "
                "from status.hostIP, or set HOSTGW_IP"
            )
        bare = address.partition("%")[0]
        if bare == CALICO_V6_GATEWAY:
            return None, (
                f"gateway {bare} is Calico's fixed link-local next hop, not the node; pass "
                "the node address as HOST_IP from status.hostIP, or set HOSTGW_IP"
            )
        if "%" not in address:
            problem = zone_problem(iface)
            if problem is not None:
                return None, (
                    f"link-local next hop {address} is usable only with its interface, and "
                    f"{problem}; set HOSTGW_IP to a global address of the host"
                )
            return f"{address}%{iface}", f"link-local next hop, usable only with interface {iface}"
    return address, ""


def _wanted(ctx: Context) -> str:
    return " or ".join(family_name(f) for f in ctx.families)


class _Gateways:
    """What a route-reading strategy saw, family by family."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self.rejected: list[str] = []

    def next_hop(self, family: int, gateway: str, iface: str, seen: str, tail: str = "") -> None:
        """Judge ``gateway`` (see :func:`judge_gateway`): a finding, or a rejection."""
        address, why = judge_gateway(gateway, family, iface)
        if address is None:
            self.rejected.append(f"{seen}: {why}")
        else:
            detail = seen + (f"; {why}" if why else "") + tail
            self.findings.append(Finding(address, family, detail))

    def outcome(self, also: str = "") -> Outcome:
        """The :class:`Outcome`; ``also`` is added to a non-empty reason."""
        reason = "; ".join(self.notes)
        if reason and also:
            reason += also
        return Outcome(tuple(self.findings), reason, tuple(self.rejected))


def _optional(module: str, missing: str) -> tuple[Any, Outcome | None]:
    """Import an optional backend, or say why not."""
    import importlib

    try:
        # import_module: netifaces ships no type information.
        return importlib.import_module(module), None
    except ImportError:
        return None, Outcome(reason=missing)


# --- env ---------------------------------------------------------------------


def env(ctx: Context) -> Outcome:
    """``HOSTGW_IP`` (and ``HOSTGW_IP6``): an explicit address or hostname.

    A hostname is resolved within the DNS time bound. A value that is neither
    an address nor a resolvable name stops detection: the user said where the
    host is, and a guess elsewhere would hide the mistake. An address cannot
    change while the process runs; a hostname's answer changes with what
    resolves it, which the outcome's ``watch`` says.
    """
    findings: list[Finding] = []
    notes: list[str] = []
    seen = named = False
    for var, only in (("HOSTGW_IP", None), ("HOSTGW_IP6", 6)):
        value = ctx.env.get(var, "").strip()
        if value:
            seen = True
            named = named or parse_ip(value) is None
            fatal = _env_value(ctx, var, value, only, findings=findings, notes=notes)
            if fatal is not None:
                return fatal
    if not seen:
        return Outcome(reason="HOSTGW_IP is not set")
    watch = EVERYTHING if named else None
    return Outcome(findings=tuple(findings), reason="; ".join(notes), watch=watch)


def _env_value(
    ctx: Context,
    var: str,
    value: str,
    only: int | None,
    *,
    findings: list[Finding],
    notes: list[str],
) -> Outcome | None:
    """Add what ``var=value`` gives to ``findings``/``notes``; a fatal Outcome if unusable."""
    parsed = parse_ip(value)
    if parsed is not None:
        address, family = parsed
        if only and family != only:
            return _env_fatal(var, value, "is not an IPv6 address")
        if family in ctx.families:
            findings.append(Finding(address, family, f"{var}={value}"))
        else:
            notes.append(f"{var}={value} is {family_name(family)}, {_wanted(ctx)} wanted")
        return None
    if not is_hostname(value):
        return _env_fatal(var, value, f"is {host_problem(value)}")
    from hostgw.detection.resolve import resolve_names

    families = tuple(f for f in ctx.families if only in (None, f))
    # As given (no trailing dot): the user's name may rely on /etc/hosts or a search domain.
    got = resolve_names([value], ctx.timeout, families).get(value)
    if got is None:
        return _env_fatal(var, value, f"did not resolve within {ctx.timeout:g} s")
    if got.error is not None:
        return _env_fatal(var, value, f"did not resolve: {got.error}")
    before = len(findings)
    for family in families:
        hit = next((a for a, f in got.addresses if f == family), None)
        if hit is not None:
            findings.append(Finding(hit, family, f"{var}={value} resolved to {hit}"))
    if len(findings) == before:
        shown = ", ".join(a for a, _ in got.addresses) or "nothing"
        notes.append(f"{var}={value} resolved to {shown}; {_wanted(ctx)} wanted")
    return None


def _env_fatal(var: str, value: str, problem: str) -> Outcome:
    return Outcome(
        reason=f"{var}={value!r} {problem}",
        fatal=True,
        hint=f"set {var} to the host's IP address or a hostname that resolves, "
        "or unset it to let hostgw detect the host",
    )


def _absolute(name: str) -> str:
    """A trailing dot: no search-domain expansion (a wildcard there would answer)."""
    return name if name.endswith(".") else f"{name}."


# --- hosts -------------------------------------------------------------------


def hosts(ctx: Context) -> Outcome:
    """``/etc/hosts`` entries for the names (``host.docker.internal``, ...).

    An entry that names no host is rejected with the reason and the next one
    counts: the unspecified address (``0.0.0.0``, ``::``, as blocking lists
    write), an IPv6 zone that is not an interface name, and one of the
    container's own addresses (see :class:`_Own`).
    """
    from hostgw.detection.hosts import lookup, parse_hosts

    text, problem = ctx.read("etc/hosts")
    if text is None:
        return Outcome(reason=problem)
    path = ctx.path("etc/hosts")
    wanted = {name.lower() for name in ctx.names}
    own = _Own(ctx)
    entries = []
    rejected: list[str] = []
    for entry in parse_hosts(text):
        if not wanted & {n.lower() for n in entry.names}:
            continue
        if entry.problem:
            why: str | None = entry.problem
        elif is_unspecified(entry.address):
            why = "the unspecified address"
        else:
            why = own.reject(entry.address)
        if why is None:
            entries.append(entry)
        else:
            rejected.append(f"{path}:{entry.line}: {entry.text}: {why}")
    findings: list[Finding] = []
    for family in ctx.families:
        hit = lookup(entries, ctx.names, family)
        if hit is not None:
            _name, entry = hit
            detail = f"{path}:{entry.line}: {entry.text}{own.kept(entry.address)}"
            findings.append(Finding(entry.address, family, detail))
    usable = "usable " if rejected else ""
    reason = (
        ""
        if findings
        else f"no {usable}{_wanted(ctx)} entry for {' or '.join(ctx.names)} in {path}"
    )
    return Outcome(tuple(findings), reason, tuple(rejected))


# --- k8s ---------------------------------------------------------------------


def k8s(ctx: Context) -> Outcome:
    """The node's address from the downward API (``status.hostIP``), in ``HOST_IP``.

    ``status.hostIPs`` gives a comma-separated list on dual-stack nodes; each
    family takes its first.
    """
    var = ctx.k8s_var
    value = ctx.env.get(var, "").strip()
    in_pod = bool(ctx.env.get("KUBERNETES_SERVICE_HOST"))
    if not value:
        if in_pod:
            return Outcome(
                reason=f"{var} is not set, in a Kubernetes pod (KUBERNETES_SERVICE_HOST is "
                f"set): add env {var} with valueFrom.fieldRef.fieldPath: status.hostIP"
            )
        return Outcome(reason=f"{var} is not set")
    findings: list[Finding] = []
    rejected: list[str] = []
    for item in value.split(","):
        parsed = parse_ip(item.strip())
        if parsed is None:
            problem = address_problem(item.strip())
            rejected.append(f"{var}={value}: {item.strip()!r} is {problem}")
            continue
        address, family = parsed
        if family in ctx.families and all(f.family != family for f in findings):
            findings.append(Finding(address, family, f"{var}={value}"))
    reason = "" if findings else f"{var}={value} has no {_wanted(ctx)} address"
    return Outcome(findings=tuple(findings), reason=reason, rejected=tuple(rejected))


# --- host-network ------------------------------------------------------------


def is_runtime_bridge_name(name: str) -> bool:
    """Names container runtimes give their bridges on the host.

    ``docker0``, ``docker_gwbridge`` (swarm), ``br-`` and 12 hex digits
    (Docker user networks), ``podman<N>`` (netavark), ``cni-podman<N>``
    (Podman with CNI). Kubernetes' ``cni0`` is left out on purpose: a
    Kubernetes node running inside a container (kind, k3d) has one too, and
    there loopback is not the host.
    """
    if name in ("docker0", "docker_gwbridge"):
        return True
    if name.startswith("br-") and len(name) == 15:
        return all(c in "0123456789abcdef" for c in name[3:])
    for prefix in ("podman", "cni-podman"):
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            return True
    return False


def _runtime_bridges(ctx: Context) -> tuple[list[str], list[str], list[str]]:
    """``(runtime bridges, every link, runtime names that are no bridge)`` in
    ``sys/class/net``, sorted; raises OSError when it cannot be listed."""
    base = ctx.path("sys/class/net")
    links = sorted(os.listdir(base))
    bridges: list[str] = []
    others: list[str] = []
    for name in links:
        if is_runtime_bridge_name(name):
            is_bridge = os.path.isdir(os.path.join(base, name, "bridge"))
            (bridges if is_bridge else others).append(name)
    return bridges, links, others


def host_network(ctx: Context) -> Outcome:
    """A container runtime's bridge in our own namespace: we are on the host's network.

    A container with its own network namespace sees only ``lo`` and its own
    interfaces. Seeing ``docker0`` (or another runtime bridge, see
    :func:`is_runtime_bridge_name`) *as a bridge* (``sys/class/net/NAME/bridge``
    exists) means we share the host's namespace (``--network host``), where
    the default route leads to the LAN router, which is wrong, and published
    ports answer on loopback: the answer is ``127.0.0.1`` (``::1``).
    """
    base = ctx.path("sys/class/net")
    try:
        bridges, links, others = _runtime_bridges(ctx)
    except OSError as exc:
        return Outcome(reason=f"cannot list {base}: {exc.strerror or exc}")
    rejected = [f"{name} is not a bridge ({base}/{name}/bridge missing)" for name in others]
    if not bridges:
        shown = ", ".join(links[:8]) + (", ..." if len(links) > 8 else "")
        return Outcome(
            reason=f"no container runtime bridge in {base} (have: {shown or 'nothing'}): "
            "a network namespace of our own",
            rejected=tuple(rejected),
        )
    evidence = (
        f"{base}/{bridges[0]}/bridge: the runtime's bridge is in our own network namespace, "
        "so we share the host's network and published ports answer on loopback"
    )
    loopback = {4: "127.0.0.1", 6: "::1"}
    return Outcome(findings=tuple(Finding(loopback[f], f, evidence) for f in ctx.families))


# --- the container's own addresses ---------------------------------------------


class _Own:
    """Judges a hosts or DNS answer that is one of the container's own addresses.

    Such an answer reaches only the container itself, unless the address is
    on one of the host's interfaces: pasta gives a container the host's
    addresses on a tap, and Podman 4.3 then names one of them
    ``host.containers.internal``. On a network card, a bridge or a bond (see
    :func:`hostgw.detection.own.link_kind`) we share the host's network
    namespace, as under rootless Podman's ``--network host``, and the address
    is the host's: it is kept, with a note (:meth:`kept`). A runtime's bridge
    in our own namespace (as ``host-network`` sees it) keeps every one. The
    files are read on first need: ``proc/net/fib_trie`` (IPv4 LOCAL
    prefixes), ``proc/net/if_inet6``, ``proc/net/route`` (an IPv4 address's
    interface), ``proc/net/dev`` and ``sys/class/net``; no own address is
    known from a file that cannot be read, and ``sys/class/net`` counts only
    where it lists the interfaces of ``proc/net/dev``.
    """

    __slots__ = ("_ctx", "_found", "_kept", "_links", "_sources", "_sysfs")

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._found: OwnAddresses | None = None
        self._sources: dict[int, str] = {}
        self._links: list[tuple[str, str, int]] = []
        self._sysfs: frozenset[str] | None = None  # its links, when they are ours
        self._kept: dict[str, str] = {}

    def _load(self) -> OwnAddresses:
        from hostgw.detection.own import (
            Local,
            OwnAddresses,
            parse_fib_trie,
            parse_if_inet6,
            parse_net_dev,
        )
        from hostgw.detection.routes import parse_ipv4_routes

        try:
            bridges, links, _ = _runtime_bridges(self._ctx)
        except OSError:
            bridges, links = [], []
        if bridges:
            return OwnAddresses()
        found: list[Local] = []
        for family, relative, parse in (
            (4, "proc/net/fib_trie", parse_fib_trie),
            (6, "proc/net/if_inet6", parse_if_inet6),
        ):
            text, _ = self._ctx.read(relative)
            if text is not None:
                found += parse(text)
                self._sources[family] = self._ctx.path(relative)
        if found:
            text, _ = self._ctx.read("proc/net/route")
            routes = parse_ipv4_routes(text or "").routes
            self._links = [
                (r.iface, r.destination, r.prefix) for r in routes if r.usable and not r.gateway
            ]
            text, _ = self._ctx.read("proc/net/dev")
            if text is not None and parse_net_dev(text) == frozenset(links):
                self._sysfs = frozenset(links)
        return OwnAddresses(tuple(found))

    def _kind(self, iface: str | None) -> LinkKind | _Unknown:
        from hostgw.detection.own import link_kind

        if iface is None:
            return "unrouted"
        if self._sysfs is None:
            return "untrusted"
        if iface not in self._sysfs:
            return "unlisted"
        try:
            return link_kind(os.listdir(self._ctx.path(f"sys/class/net/{iface}")))
        except OSError:
            return "unlisted"

    def reject(self, address: str) -> str | None:
        """Why ``address`` cannot be the host (it is our own), or None."""
        from hostgw.detection.own import HOST_LINKS, link_of

        if self._found is None:
            self._found = self._load()
        hit = self._found.holds(address)
        if hit is None:
            return None
        bare = address.partition("%")[0]
        if ":" in hit.address:
            where = f"{self._sources[6]}: {hit.address} on {hit.iface}"
            iface: str | None = hit.iface
        else:
            where = f"{self._sources[4]}: {hit.address}/{hit.prefix} LOCAL"
            iface = link_of(bare, self._links)
        kind = self._kind(iface)
        entry = next((e for e, k in HOST_LINKS if k == kind), None)
        if entry is not None:
            self._kept[address] = (
                f"{bare} is our own address, on {iface}, {_KINDS[kind]} "
                f"(sys/class/net/{iface}/{entry}), so we share the host's network and it "
                "is the host's"
            )
            return None
        on = _ON[kind].format(iface=iface)
        return (
            f"{bare} is this container's own address ({where}), {on}, so it reaches only "
            "the container (pasta gives a container the host's addresses)"
        )

    def kept(self, address: str) -> str:
        """``"; why"`` for an own address :meth:`reject` kept, else ``""``."""
        note = self._kept.get(address)
        return f"; {note}" if note else ""


# Why an own address's interface does not show it to be the host's.
_Unknown = Literal["unrouted", "untrusted", "unlisted"]
_KINDS = {"nic": "a network card", "bridge": "a bridge", "bond": "a bond"}
_ON = {
    "other": (
        "on {iface}, which is no network card, bridge or bond (sys/class/net/{iface} has "
        "no device, bridge or bonding): a container's, such as a veth or pasta's tap"
    ),
    "unlisted": "on {iface}, which sys/class/net does not list",
    "untrusted": (
        "on {iface}, and sys/class/net does not list the interfaces of proc/net/dev (a /sys "
        "that is not this namespace's), so nothing shows it is the host's"
    ),
    "unrouted": "on no interface a route without a gateway names in proc/net/route",
}


# --- dns ---------------------------------------------------------------------


def dns_lookups(ctx: Context) -> tuple[float, Lookups]:
    """Ask for the ``dns`` strategy's names (absolute) in the background:
    ``(when, the lookups)``; the bound counts from then."""
    from hostgw.detection.resolve import ask

    return time.monotonic(), ask([_absolute(n) for n in ctx.names], ctx.families)


def dns(ctx: Context) -> Outcome:
    """The names through the system resolver, bounded by ``timeout`` in total.

    Names are looked up as absolute names (trailing dot), so that a search
    domain with a wildcard record cannot answer for them. The lookups may
    have been asked for already (``ctx.started``, from :func:`dns_lookups`),
    and may still be running from an earlier walk (see
    :func:`hostgw.detection.resolve.ask`); ``ctx.until`` cuts the wait short
    once a lower-ranked strategy has answered.
    """
    from hostgw.detection.resolve import nameservers

    asked, lookups = ctx.started if isinstance(ctx.started, tuple) else dns_lookups(ctx)
    conf, _ = ctx.read("etc/resolv.conf")
    servers = ", ".join(nameservers(conf or "")) or "none listed"
    queries = [_absolute(n) for n in ctx.names]
    deadline = asked + ctx.timeout
    until = deadline if ctx.until is None else min(deadline, ctx.until)
    results = lookups.wait(until)
    late = f"no answer within {ctx.timeout:g} s"
    if until < deadline:
        late = (
            f"no answer within {until - asked:.3f} s, by when a lower-ranked "
            f"strategy had answered (DNS waits its whole {ctx.timeout:g} s only while none has)"
        )
    own = _Own(ctx)
    findings: list[Finding] = []
    rejected: list[str] = []
    for family in ctx.families:
        for name, query in zip(ctx.names, queries, strict=True):
            got = results.get(query)
            address = next((a for a, f in got.addresses if f == family), None) if got else None
            if address is None:
                continue
            why = own.reject(address)
            if why is not None:
                rejected.append(f"{name} -> {address}: {why}")
                continue
            resolver = f"system resolver; nameserver {servers}"
            detail = f"{name} -> {address} ({resolver}){own.kept(address)}"
            findings.append(Finding(address, family, detail))
            break
    seen = _dns_seen(ctx, queries, results, late, answered={f.detail for f in findings})
    reason = "; ".join(seen) + f" (nameserver {servers})" if seen else ""
    return Outcome(findings=tuple(findings), reason=reason, rejected=tuple(rejected))


def _dns_seen(
    ctx: Context,
    queries: list[str],
    results: dict[str, Resolution],
    late: str,
    answered: set[str],
) -> list[str]:
    """What each name gave that is not an answer, in order of trust; names after
    one that answered every family were not asked."""
    pending: list[str] = []
    seen: list[str] = []
    families: set[int] = set()
    for name, query in zip(ctx.names, queries, strict=True):
        if families >= set(ctx.families):
            break
        got = results.get(query)
        if got is None:
            pending.append(name)
            continue
        families.update(f for _, f in got.addresses)
        if got.error:
            seen.append(f"{name}: {got.error}")
        elif not any(detail.startswith(f"{name} ->") for detail in answered):
            shown = ", ".join(a for a, _ in got.addresses) or "no address"
            seen.append(f"{name}: {shown}, no {_wanted(ctx)} to use")
    return ([f"{' and '.join(pending)}: {late}"] if pending else []) + seen


# --- route -------------------------------------------------------------------

_ROUTE_FILES = {4: "proc/net/route", 6: "proc/net/ipv6_route"}


def route(ctx: Context) -> Outcome:
    """The default route's gateway from ``/proc/net/route`` and ``/proc/net/ipv6_route``.

    Only routes with RTF_UP (and RTF_GATEWAY for a gateway) and destination
    and mask 0 count; the lowest metric wins and file order breaks ties.
    ``/proc/net/route`` shows only the main table; see ``netlink``.
    """
    from hostgw.detection.routes import default_routes, parse_ipv4_routes, parse_ipv6_routes

    seen = _Gateways()
    for family in ctx.families:
        if seen.findings and ctx.first_only:
            break
        relative = _ROUTE_FILES[family]
        text, problem = ctx.read(relative)
        if text is None:
            seen.notes.append(problem)
            continue
        path = ctx.path(relative)
        table = parse_ipv4_routes(text) if family == 4 else parse_ipv6_routes(text)
        unread = f" ({len(table.skipped)} unreadable line(s) skipped)" if table.skipped else ""
        defaults = default_routes(table.routes)
        if not defaults:
            seen.notes.append(f"{path}: no default route{unread}")
            continue
        best = defaults[0]
        where = f"{path}:{best.line}"
        if best.gateway is None:
            seen.notes.append(
                f"{where}: the default route on {best.iface} has no gateway (on-link)"
            )
            continue
        among = f", lowest metric of {len(defaults)} defaults" if len(defaults) > 1 else ""
        detail = f"{where}: default via {best.gateway} dev {best.iface} metric {best.metric}{among}"
        raw = " ".join(best.text.split())
        seen.next_hop(family, best.gateway, best.iface, detail, f"{unread} [{raw}]")
    if not (seen.findings or seen.rejected) and all("no default route" in n for n in seen.notes):
        seen.notes.append("an internal network has none")
    return seen.outcome()


# --- netlink -----------------------------------------------------------------


def netlink(ctx: Context) -> Outcome:
    """Ask the kernel which route it would use (``ip route get``), over netlink.

    Unlike ``/proc/net/route`` this follows policy routing rules and tables
    other than main, and works without ``/proc``. The socket is the standard
    library's (:mod:`hostgw.detection.rtnl`): a few microseconds, no import.
    """
    from hostgw.detection import rtnl

    seen = _Gateways()
    try:
        for family in ctx.families:
            if seen.findings and ctx.first_only:
                break
            dst = _PROBE_DST[family]
            try:
                answer = rtnl.route_get(dst)
            except rtnl.NetlinkError as exc:
                seen.notes.append(f"route get {dst}: {str(exc.strerror).lower()}")
                continue
            iface = rtnl.interface_name(answer.oif)
            where = f"dev {iface} table {_table_name(answer.table)}"
            if not answer.gateway:
                seen.notes.append(f"kernel route get {dst}: {where}: on-link, no gateway")
                continue
            detail = f"kernel route get {dst}: via {answer.gateway} {where}"
            seen.next_hop(family, answer.gateway, iface, detail)
    except OSError as exc:
        return Outcome(reason=f"netlink: {exc.strerror or exc}")
    return seen.outcome()


def _table_name(table: object) -> str:
    known = {254: "main", 253: "default", 255: "local"}
    return known.get(table, str(table)) if isinstance(table, int) else str(table)


# --- netifaces ---------------------------------------------------------------


def netifaces(ctx: Context) -> Outcome:
    """The default gateways as the optional netifaces package sees them.

    netifaces reports no default gateway for a multipath (ECMP) route; the
    ``route`` and ``netlink`` strategies handle those.
    """
    module, skip = _optional(
        "netifaces", "netifaces is not installed (pip install 'hostgw[netifaces]')"
    )
    if skip is not None:
        return skip
    import socket

    try:
        defaults = module.gateways().get("default", {})
    except OSError as exc:
        return Outcome(reason=f"netifaces: {exc.strerror or exc}")
    seen = _Gateways()
    for family in ctx.families:
        entry = defaults.get(socket.AF_INET if family == 4 else socket.AF_INET6)
        if not entry:
            seen.notes.append(f"no {family_name(family)} default gateway")
            continue
        gateway, iface = str(entry[0]), str(entry[1])
        parsed = parse_ip(gateway)
        if parsed is None:
            seen.notes.append(f"unreadable gateway {gateway!r}")
            continue
        detail = f"netifaces.gateways(): default via {gateway} dev {iface}"
        seen.next_hop(family, parsed[0], iface, detail)
    also = "" if seen.findings else " (it also reports none for a multipath route)"
    return seen.outcome(also)
