#!/bin/sh
# hostgw-snippet-sh: finds the container host's address without Python
#
# Printed by `hostgw snippet sh`. Needs only a POSIX sh and awk (dash, bash,
# busybox); getent only when HOSTGW_IP holds a hostname (without it, the name
# is looked up in /etc/hosts, or refused). No `ip` binary.
# It gives the answer `hostgw ip` gives with these strategies, in the same
# order of trust (or HOSTGW_STRATEGIES):
#   env           HOSTGW_IP (address or hostname), HOSTGW_IP6
#   hosts         /etc/hosts: host.docker.internal, host.containers.internal
#                 (or HOSTGW_NAMES=a,b); an entry that is the container's own
#                 address (/proc/net/fib_trie, /proc/net/if_inet6) is rejected
#                 unless it is on a network card, bridge or bond (/sys/class/net,
#                 when it lists /proc/net/dev) or under host networking
#   k8s           HOST_IP from status.hostIP (or the variable HOSTGW_K8S_VAR names)
#   host-network  a docker0/podman bridge in our own namespace -> 127.0.0.1
#   route         /proc/net/route, then /proc/net/ipv6_route (lowest metric,
#                 file order breaks ties; link-local IPv4 gateways rejected;
#                 a link-local IPv6 one is scoped to its interface, whose name
#                 must be a zone: A-Z a-z 0-9 _ . -)
# dns, netlink and netifaces need Python hostgw; here they are skipped.
# Files and variables are read as ASCII text, as the kernel and runtimes write them.
# Settings come from the environment or, when sourced, from shell variables.
#
# Sourced (the nginx image sources /docker-entrypoint.d/*.envsh; chmod +x):
#   . ./15-hostgw.envsh
#   exports HOSTGW_IP, HOSTGW_HOST (IPv6 in brackets) and, where one exists,
#   HOSTGW_IP6; logs one line to stderr (HOSTGW_QUIET=1 or
#   NGINX_ENTRYPOINT_QUIET_LOGS silence it). When nothing is found it logs why
#   and the fix, exports nothing (a HOSTGW_IP or HOSTGW_IP6 it could not use
#   is unset) and returns 0 so the entrypoint goes on;
#   with HOSTGW_REQUIRED=1 it returns 1 (an entrypoint under `set -e` stops).
#   It never exits the sourcing shell, leaves its options alone and defines
#   nothing else (names starting with _hostgw_ are used, then unset).
# Executed:
#   sh hostgw.sh [-4|-6] [export|ip|host]
#   export (default) prints `export HOSTGW_IP=...` lines, ip the address,
#   host the host:port form; exit 0, 3 when nothing is found, 2 on bad usage.
# HOSTGW_ROOT=DIR reads proc/, etc/ and sys/ under DIR (like `hostgw --root`).

_hostgw_find() {
    # Runs in a subshell ($(...)): nothing set here reaches the caller.
    # $1: family ("", 4 or 6); $2: "sourced" (log the answer unless quiet),
    # "export", or "ip" (only the answer matters: no search for HOSTGW_IP6,
    # as `hostgw ip`). Prints "IP HOST IP6-or--" on stdout; reasons go to stderr.
    set +f
    _hfam=$1
    _hwant6=1
    if [ "$2" = ip ]; then
        _hwant6=0
    fi
    _hverbose=0
    if [ "$2" = sourced ] && [ -z "${HOSTGW_QUIET:-}${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        _hverbose=1
    fi
    # Sourced, settings may be plain shell variables: awk reads the environment.
    export HOSTGW_IP HOSTGW_IP6 HOSTGW_NAMES HOSTGW_STRATEGIES HOSTGW_K8S_VAR \
        KUBERNETES_SERVICE_HOST
    _hk8s=${HOSTGW_K8S_VAR:-HOST_IP}
    case $_hk8s in
        ''|[0-9]*|*[!A-Za-z0-9_]*) ;;
        *) export "${_hk8s?}" ;;  # the variable it names, not _hk8s
    esac
    _hr=${HOSTGW_ROOT:-}
    _hr=${_hr%/}
    set -- "root=$_hr" "bigendian=$(_hostgw_bigendian)"
    for _hp in hosts:etc/hosts route4:proc/net/route route6:proc/net/ipv6_route; do
        _hk=${_hp%%:*}
        _hf=$_hr/${_hp#*:}
        if [ -r "$_hf" ] && [ -f "$_hf" ]; then
            set -- "$@" "kind=$_hk" "$_hf"
        elif [ -e "$_hf" ]; then
            set -- "$@" "miss_$_hk=$_hf is not readable (permission denied)"
        else
            set -- "$@" "miss_$_hk=$_hf does not exist"
        fi
    done
    # host-network: a container runtime's bridge in our own namespace.
    _hn=
    _hseen=
    _hlinks=
    _hkinds=
    if [ -d "$_hr/sys/class/net" ]; then
        for _hl in "$_hr"/sys/class/net/*; do
            [ -e "$_hl" ] || [ -L "$_hl" ] || continue
            _hb=${_hl##*/}
            _hseen="$_hseen${_hseen:+, }$_hb"
            _hlinks="$_hlinks $_hb"
            # The host's kinds of interface (hostgw.detection.own.link_kind).
            for _hk in device bridge bonding; do
                if [ -e "$_hl/$_hk" ] || [ -L "$_hl/$_hk" ]; then
                    _hkinds="$_hkinds $_hb=$_hk"
                    break
                fi
            done
            case $_hb in
                docker0|docker_gwbridge) ;;
                br-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
                podman|cni-podman) continue ;;
                podman*[!0-9]*|cni-podman*[!0-9]*) continue ;;
                podman*|cni-podman*) ;;
                *) continue ;;
            esac
            if [ -d "$_hl/bridge" ]; then
                _hn=$_hb
                break
            fi
        done
        _hwhy="no container runtime bridge in $_hr/sys/class/net (have: ${_hseen:-nothing}): a network namespace of our own"
    else
        _hwhy="cannot list $_hr/sys/class/net"
    fi
    _hget=
    if command -v getent >/dev/null 2>&1; then
        _hget=getent
        if command -v timeout >/dev/null 2>&1; then
            _hget="timeout 1 getent"
        fi
    fi
    awk -v fam="$_hfam" -v verbose="$_hverbose" -v want6="$_hwant6" -v hostnet="$_hn" -v hostnet_why="$_hwhy" \
        -v syslinks="$_hlinks " -v hostkinds="$_hkinds " \
        -v getent="$_hget" '
# All numbers are parsed by hand: busybox awk reads "010" as octal and has no
# ^ operator; mawk prints numbers over 2^31 in %g form. So no string-to-number
# coercion of input and no printing of big numbers happens below.
function dec(s,   i, v) {
    v = 0
    for (i = 1; i <= length(s); i++) v = v * 10 + index("0123456789", substr(s, i, 1)) - 1
    return v
}
function hexval(s,   i, v) {
    v = 0
    for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
    return v
}
function ishex(s, lo, hi) { return length(s) >= lo && length(s) <= hi && s !~ /[^0-9A-Fa-f]/ }
function isdec(s) { return s != "" && s !~ /[^0-9]/ }
function bit(v, m) { return int(v / m) % 2 }
function zeros(s) { return s !~ /[^0]/ }
function nozeros(s) { sub(/^0+/, "", s); return s == "" ? "0" : s }
function words(line) {
    # Python str.split(): these count as blanks too.
    gsub("[\r\013\014\034\035\036\037]", " ", line)
    return split(line, F, " ")
}
function strip(s) {
    gsub("[\r\013\014\034\035\036\037]", " ", s)
    gsub(/^[ \t\n]+|[ \t\n]+$/, "", s)
    return s
}
function say(msg) { print "hostgw-sh: " msg | "cat 1>&2" }

# --- addresses, as glibc inet_pton and inet_ntop read and write them ---
function pton4(s,   i, n, c, d, saw, octets, cur) {
    n = length(s); saw = 0; octets = 0; cur = 0
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        d = index("0123456789", c)
        if (d > 0) {
            if (saw && cur == 0) return 0
            cur = cur * 10 + d - 1
            if (cur > 255) return 0
            if (!saw) { if (++octets > 4) return 0; saw = 1 }
        } else if (c == "." && saw) {
            if (octets == 4) return 0
            Q[octets - 1] = cur; cur = 0; saw = 0
        } else return 0
    }
    if (octets < 4) return 0
    Q[3] = cur
    return 1
}
function pton6(s,   n, i, c, d, xd, val, tp, colonp, curtok, k, m) {
    n = length(s)
    if (n == 0) return 0
    i = 1
    if (substr(s, 1, 1) == ":") { if (substr(s, 2, 1) != ":") return 0; i = 2 }
    curtok = i; xd = 0; val = 0; tp = 0; colonp = -1
    while (i <= n) {
        c = substr(s, i, 1); i++
        d = index("0123456789abcdef", tolower(c))
        if (d > 0) {
            if (xd == 4) return 0
            val = val * 16 + d - 1; xd++
            continue
        }
        if (c == ":") {
            curtok = i
            if (xd == 0) { if (colonp >= 0) return 0; colonp = tp; continue }
            if (i > n) return 0
            if (tp >= 8) return 0
            W[tp++] = val; xd = 0; val = 0
            continue
        }
        if (c == "." && tp + 2 <= 8 && pton4(substr(s, curtok))) {
            W[tp++] = Q[0] * 256 + Q[1]; W[tp++] = Q[2] * 256 + Q[3]; xd = 0
            break
        }
        return 0
    }
    if (xd > 0) { if (tp >= 8) return 0; W[tp++] = val }
    if (colonp >= 0) {
        if (tp == 8) return 0
        m = tp - colonp
        for (k = 1; k <= m; k++) W[8 - k] = W[tp - k]
        for (k = colonp; k < 8 - m; k++) W[k] = 0
        tp = 8
    }
    return tp == 8
}
function ntop6(   i, best, blen, cur, clen, out) {
    best = -1; blen = 0; cur = -1; clen = 0
    for (i = 0; i < 8; i++) {
        if (W[i] == 0) { if (cur == -1) { cur = i; clen = 1 } else clen++ }
        else if (cur != -1) { if (best == -1 || clen > blen) { best = cur; blen = clen }; cur = -1 }
    }
    if (cur != -1 && (best == -1 || clen > blen)) { best = cur; blen = clen }
    if (best != -1 && blen < 2) best = -1
    out = ""
    for (i = 0; i < 8; i++) {
        if (best != -1 && i >= best && i < best + blen) { if (i == best) out = out ":"; continue }
        if (i != 0) out = out ":"
        if (i == 6 && best == 0 && (blen == 6 || (blen == 5 && W[5] == 65535))) {
            out = out int(W[6] / 256) "." W[6] % 256 "." int(W[7] / 256) "." W[7] % 256
            break
        }
        out = out sprintf("%x", W[i])
    }
    if (best != -1 && best + blen == 8) out = out ":"
    return out
}
# hostgw.addr.is_zone: an interface name or index.
function zonelike(z) { return length(z) >= 1 && length(z) <= 15 && z !~ /[^A-Za-z0-9_.-]/ }
# The normal form of an address (IPv6 zone kept) and FAM, or "" when invalid.
function parse_ip(text,   p, addr, zone, sep) {
    p = index(text, "%")
    sep = p > 0
    addr = sep ? substr(text, 1, p - 1) : text
    zone = sep ? substr(text, p + 1) : ""
    if (pton4(addr)) {
        if (sep) return ""
        FAM = 4
        return Q[0] "." Q[1] "." Q[2] "." Q[3]
    }
    if (pton6(addr)) {
        if (sep && !zonelike(zone)) return ""
        FAM = 6
        return ntop6() (sep ? "%" zone : "")
    }
    return ""
}
function hex4(h,   a, b, c, d) {
    a = hexval(substr(h, 1, 2)); b = hexval(substr(h, 3, 2))
    c = hexval(substr(h, 5, 2)); d = hexval(substr(h, 7, 2))
    return bigendian == "1" ? a "." b "." c "." d : d "." c "." b "." a
}
function hex6(h,   i) {
    for (i = 0; i < 8; i++) W[i] = hexval(substr(h, i * 4 + 1, 4))
    return ntop6()
}
function fname(f) { return f == 4 ? "IPv4" : "IPv6" }
function wanted(fams) { return fams == "4" ? "IPv4" : fams == "6" ? "IPv6" : "IPv4 or IPv6" }
function wants(fams, f) { return index(fams, f) > 0 }

# --- reading the files ---
BEGIN { nh = 0; nd4 = 0; nd6 = 0; skip4 = 0; skip6 = 0 }  # busybox: "" == 0 is false
kind == "hosts" {
    line = $0
    p = index(line, "#")
    if (p) line = substr(line, 1, p - 1)
    n = words(line)
    if (n < 2) next
    a = parse_ip(F[1])
    bad = ""
    if (a == "") {
        # An IPv6 address whose zone cannot be one: kept, to be rejected with the reason.
        p = index(F[1], "%")
        if (p == 0 || index(substr(F[1], 1, p - 1), ":") == 0 || parse_ip(substr(F[1], 1, p - 1)) == "") next
        a = F[1]; FAM = 6
        bad = "not an IP address: zone \047" substr(F[1], p + 1) "\047 is not an interface name"
    } else if (a == "0.0.0.0" || a == "::" || substr(a, 1, 3) == "::%") {
        # The unspecified address (blocking lists write it) names no host.
        HREJ = HREJ "; " root "/etc/hosts:" FNR ": " strip(line) ": the unspecified address"
        next
    }
    nh++
    H_addr[nh] = a; H_fam[nh] = FAM; H_line[nh] = FNR; H_text[nh] = strip(line); H_bad[nh] = bad
    H_names[nh] = " "
    for (i = 2; i <= n; i++) H_names[nh] = H_names[nh] tolower(F[i]) " "
    next
}
kind == "route4" {
    n = words($0)
    if (n == 0) next
    if (F[1] == "Iface" && n >= 2 && F[2] == "Destination") next
    if (n < 8 || !(ishex(F[2], 8, 8) && ishex(F[3], 8, 8) && ishex(F[8], 8, 8)) \
        || !(ishex(F[4], 1, 8) && isdec(F[7]))) { skip4++; next }
    flags = hexval(F[4])
    if (bit(flags, 1) && !bit(flags, 512) && !(bit(flags, 2) && !zeros(F[3])) && !zeros(F[8])) {
        nl4++; L4_if[nl4] = F[1]; L4_dst[nl4] = hex4(F[2]); L4_bits[nl4] = ones(hexval(F[8]))
    }
    if (!zeros(F[8]) || !zeros(F[2]) || !bit(flags, 1) || bit(flags, 512)) next
    nd4++
    metric = dec(F[7])
    if (nd4 == 1 || metric < m4) {
        m4 = metric; m4t = nozeros(F[7]); l4 = FNR; if4 = F[1]
        gw4 = (bit(flags, 2) && !zeros(F[3])) ? hex4(F[3]) : ""
    }
    next
}
kind == "route6" {
    n = words($0)
    if (n == 0) next
    if (n < 10 || !(ishex(F[1], 32, 32) && ishex(F[5], 32, 32) && ishex(F[3], 32, 32)) \
        || !(ishex(F[2], 2, 2) && ishex(F[4], 2, 2) && ishex(F[6], 1, 8) && ishex(F[9], 1, 8)) \
        || hexval(F[2]) > 128 || hexval(F[4]) > 128) { skip6++; next }
    flags = hexval(F[9])
    if (!zeros(F[2]) || !zeros(F[4]) || !zeros(F[1]) || !bit(flags, 1) || bit(flags, 512)) next
    nd6++
    metric = hexval(F[6])
    if (nd6 == 1 || metric < m6) {
        m6 = metric; m6t = metric < 2147483648 ? sprintf("%d", metric) : "0x" F[6]; l6 = FNR
        if6 = F[10]
        gw6 = (bit(flags, 2) && !zeros(F[5])) ? hex6(F[5]) : ""
        first6 = hexval(substr(F[5], 1, 4))
    }
    next
}

# --- the addresses of the container itself (hostgw.detection.own), read on first need:
# the LOCAL prefixes of proc/net/fib_trie and the addresses of proc/net/if_inet6 ---
function own_load(   f, line, n, leaf, p) {
    OWNED = 1; nown = 0; leaf = ""
    f = root "/proc/net/fib_trie"
    while ((getline line < f) > 0) {
        n = words(line)
        if (n == 2 && F[1] == "|--") { leaf = pton4(F[2]) ? Q[0] "." Q[1] "." Q[2] "." Q[3] : ""; continue }
        if (leaf != "" && n >= 1 && substr(F[1], 1, 1) == "/" && F[n] == "LOCAL") {
            p = substr(F[1], 2)
            if (isdec(p) && dec(p) <= 32) { nown++; OWN_A[nown] = leaf; OWN_P[nown] = dec(p); OWN_F[nown] = 4; OWN_W[nown] = f }
            continue
        }
        if (n >= 1 && F[1] != "|--" && substr(F[1], 1, 1) != "/") leaf = ""
    }
    close(f)
    f = root "/proc/net/if_inet6"
    while ((getline line < f) > 0) {
        n = words(line)
        if (n != 6 || !ishex(F[1], 32, 32)) continue
        nown++; OWN_A[nown] = hex6(F[1]); OWN_P[nown] = 128; OWN_F[nown] = 6; OWN_W[nown] = f; OWN_I[nown] = F[6]
    }
    close(f)
}
function num4(s) { pton4(s); return ((Q[0] * 256 + Q[1]) * 256 + Q[2]) * 256 + Q[3] }
function within4(a, b, bits,   d, i) {
    d = 1
    for (i = bits; i < 32; i++) d *= 2
    return int(num4(a) / d) == int(num4(b) / d)
}
function ones(v,   c) { c = 0; while (v > 0) { c += v % 2; v = int(v / 2) }; return c }
# The interface of the most specific IPv4 route without a gateway that covers A, or "".
function link_of4(a,   k, best, bits) {
    best = ""; bits = 0
    for (k = 1; k <= nl4; k++)
        if (L4_bits[k] > bits && within4(a, L4_dst[k], L4_bits[k])) { best = L4_if[k]; bits = L4_bits[k] }
    return best
}
# Whether sys/class/net lists exactly the interfaces of proc/net/dev (our own namespace).
function sysfs_ours(   f, line, p, name, r, n, k, L) {
    f = root "/proc/net/dev"
    n = 0
    while ((r = getline line < f) > 0) {
        p = index(line, ":")
        if (!p) continue
        name = substr(line, 1, p - 1)
        sub(/^[ \t]+/, "", name); sub(/[ \t]+$/, "", name)
        if (name == "" || name ~ /[ \t|\/]/) continue
        if (!((name) in DEV)) { DEV[name] = 1; n++ }
    }
    close(f)
    if (r < 0 && n == 0) return 0  # no such file
    k = split(syslinks, L, " ")
    if (k != n) return 0
    for (p = 1; p <= k; p++) if (!((L[p]) in DEV)) return 0
    return 1
}
# What interface I is: device, bridge or bonding (kinds of the host, kept),
# other, or why it cannot be told (hostgw.detection.strategies._Own._kind).
function link_kind(i,   p, rest) {
    if (i == "") return "unrouted"
    if (SYSFS == "") SYSFS = sysfs_ours() ? "ours" : "foreign"
    if (SYSFS != "ours") return "untrusted"
    if (!index(syslinks, " " i " ")) return "unlisted"
    p = index(hostkinds, " " i "=")
    if (!p) return "other"
    rest = substr(hostkinds, p + length(i) + 2)
    return substr(rest, 1, index(rest, " ") - 1)
}
# Why address A (family FAM) cannot be the host, it being our own; "" if it can
# (then KEPT[A] says why it is kept).
function own_reject(a, fam,   p, k, i, kind, on) {
    if (hostnet != "") return ""  # host networking: the address of the host is right
    if (!OWNED) own_load()
    p = index(a, "%")
    if (p) a = substr(a, 1, p - 1)
    for (k = 1; k <= nown; k++) {
        if (OWN_F[k] != fam) continue
        if (!(fam == 6 ? OWN_A[k] == a : within4(a, OWN_A[k], OWN_P[k]))) continue
        i = fam == 6 ? OWN_I[k] : link_of4(a)
        kind = link_kind(i)
        if (kind == "device" || kind == "bridge" || kind == "bonding") {
            KEPT[a] = "; " a " is our own address, on " i ", " (kind == "device" ? "a network card" : kind == "bridge" ? "a bridge" : "a bond") " (sys/class/net/" i "/" kind "), so we share the host\047s network and it is the host\047s"
            return ""
        }
        on = kind == "other" ? "on " i ", which is no network card, bridge or bond (sys/class/net/" i " has no device, bridge or bonding): a container\047s, such as a veth or pasta\047s tap" \
            : kind == "unlisted" ? "on " i ", which sys/class/net does not list" \
            : kind == "untrusted" ? "on " i ", and sys/class/net does not list the interfaces of proc/net/dev (a /sys that is not this namespace\047s), so nothing shows it is the host\047s" \
            : "on no interface a route without a gateway names in proc/net/route"
        return a " is this container\047s own address (" OWN_W[k] ": " OWN_A[k] (fam == 6 ? " on " OWN_I[k] : "/" OWN_P[k] " LOCAL") "), " on ", so it reaches only the container (pasta gives a container the host\047s addresses)"
    }
    return ""
}
function kept(a,   p) { p = index(a, "%"); if (p) a = substr(a, 1, p - 1); return (a in KEPT) ? KEPT[a] : "" }

# --- the strategies: each fills FOUND[4], FOUND[6] (address) and DETAIL[...],
# and WHY (what it saw otherwise); FATAL stops the whole detection. ---
function clear() { FOUND[4] = ""; FOUND[6] = ""; DETAIL[4] = ""; DETAIL[6] = ""; WHY = "" }
function note(s) { WHY = WHY (WHY == "" ? "" : "; ") s }
function add(f, a, d) { if (FOUND[f] == "") { FOUND[f] = a; DETAIL[f] = d } }
# hostgw.addr.is_hostname: RFC 1123 labels (plus _), one trailing dot allowed;
# not a number in C notation (10.9.8, 010.9.8.7, 0x0a090807: the resolver
# reads those as other addresses), nor a name whose last label is a number.
function hostname_like(v,   t, n, i, L) {
    t = v; sub(/\.$/, "", t)
    if (length(t) < 1 || length(t) > 253) return 0
    n = split(t, L, ".")
    for (i = 1; i <= n; i++) if (length(L[i]) < 1 || length(L[i]) > 63 || L[i] ~ /[^A-Za-z0-9_-]/ || L[i] ~ /^-|-$/) return 0
    return !(L[n] ~ /^[0-9]+$/ || c_number(t))
}
function c_number(t,   n, i, L) {
    n = split(t, L, ".")
    if (n > 4) return 0
    for (i = 1; i <= n; i++) if (L[i] !~ /^([0-9]+|0[xX][0-9A-Fa-f]*)$/) return 0
    return 1
}
function s_env(fams,   v, var, only, value, a, cmd, l, st, got, k, f, seen, any, shown) {
    seen = 0
    for (v = 1; v <= 2; v++) {
        var = v == 1 ? "HOSTGW_IP" : "HOSTGW_IP6"
        only = v == 1 ? "" : "6"
        value = strip(ENVIRON[var])
        if (value == "") continue
        seen = 1
        a = parse_ip(value)
        if (a != "") {
            if (only != "" && FAM != 6) return fatal(var, value, "is not an IPv6 address")
            if (wants(fams, FAM)) add(FAM, a, var "=" value)
            else note(var "=" value " is " fname(FAM) ", " wanted(fams) " wanted")
            continue
        }
        if (index(value, "%")) return fatal(var, value, "is not an IP address: its zone (after %) is not an interface name")
        if (!hostname_like(value)) {
            l = value; sub(/\.$/, "", l)
            if (c_number(l)) return fatal(var, value, "is not an IPv4 address: that is four decimal numbers from 0 to 255, without leading zeros (10.9.8.7)")
            return fatal(var, value, "is neither an IP address nor a hostname")
        }
        if (getent == "") {
            # No getent (busybox-only images): the name as /etc/hosts lists it, else refused.
            got = 0; shown = ""
            for (k = 1; k <= nh; k++) if (H_bad[k] == "" && index(H_names[k], " " tolower(value) " ")) {
                shown = shown (got++ ? ", " : "") H_addr[k]
                f = H_fam[k]
                if (wants(fams, f) && (only == "" || f == 6)) add(f, H_addr[k], var "=" value " found in " hostsfile ":" H_line[k])
            }
            if (got == 0) {
                fatal(var, value, "is a hostname that " hostsfile " does not list, and this image has no getent to ask DNS")
                FATAL_HINT = "set " var " to the host\047s IP address, or list the name in /etc/hosts (docker run --add-host NAME:ADDRESS), or unset it to let hostgw detect the host"
                return 0
            }
            if (FOUND[4] == "" && FOUND[6] == "") note(var "=" value " found in " hostsfile " as " shown "; " wanted(fams) " wanted")
            continue
        }
        # As given (no trailing dot): the name may rely on /etc/hosts or a search domain.
        cmd = getent " ahosts " value " 2>/dev/null; echo \"status $?\""
        st = ""; got = 0
        split("", R)
        while ((cmd | getline l) > 0) {
            if (l ~ /^status /) { st = substr(l, 8); continue }
            split(l, X, " ")
            a = parse_ip(X[1])
            if (a != "" && !((a) in R)) { R[a] = FAM; RA[++got] = a }
        }
        close(cmd)
        if (st == "124") return fatal(var, value, "did not resolve within 1 s")
        if (st != "0" || got == 0) return fatal(var, value, "did not resolve: not found (getent status " st ")")
        any = 0
        for (f = 4; f <= 6; f += 2) {
            if (!wants(fams, f) || (only != "" && f != 6)) continue
            for (k = 1; k <= got; k++) if (R[RA[k]] == f) { add(f, RA[k], var "=" value " resolved to " RA[k]); any = 1; break }
        }
        if (!any) {
            shown = ""
            for (k = 1; k <= got; k++) shown = shown (k > 1 ? ", " : "") RA[k]
            note(var "=" value " resolved to " shown "; " wanted(fams) " wanted")
        }
    }
    if (!seen) WHY = "HOSTGW_IP is not set"
    return 1
}
function fatal(var, value, problem) {
    FATAL = var "=\047" value "\047 " problem
    FATAL_HINT = "set " var " to the host\047s IP address or a hostname that resolves, or unset it to let hostgw detect the host"
    return 0
}
function s_hosts(fams,   f, k, j, name, nn, NL, why) {
    if (miss_hosts != "") { WHY = miss_hosts; return 1 }
    nn = split(names, NL, ",")
    for (f = 4; f <= 6; f += 2) {
        if (!wants(fams, f)) continue
        for (j = 1; j <= nn && FOUND[f] == ""; j++) {
            name = " " tolower(NL[j]) " "
            for (k = 1; k <= nh; k++) if (H_fam[k] == f && index(H_names[k], name)) {
                why = H_bad[k] != "" ? H_bad[k] : own_reject(H_addr[k], f)
                if (why != "") {
                    if (!((k) in HREJ_K)) { HREJ_K[k] = 1; HREJ = HREJ "; rejected " hostsfile ":" H_line[k] ": " H_text[k] ": " why }
                    continue
                }
                add(f, H_addr[k], hostsfile ":" H_line[k] ": " H_text[k] kept(H_addr[k])); break
            }
        }
    }
    if (FOUND[4] == "" && FOUND[6] == "") {
        gsub(/,/, " or ", shownnames)
        WHY = "no " wanted(fams) " entry for " shownnames " in " hostsfile HREJ
    }
    return 1
}
function s_k8s(fams,   value, n, k, item, a) {
    value = strip(ENVIRON[k8svar])
    if (value == "") {
        if (ENVIRON["KUBERNETES_SERVICE_HOST"] != "")
            WHY = k8svar " is not set, in a Kubernetes pod (KUBERNETES_SERVICE_HOST is set): add env " k8svar " with valueFrom.fieldRef.fieldPath: status.hostIP"
        else WHY = k8svar " is not set"
        return 1
    }
    n = split(value, K, ",")
    for (k = 1; k <= n; k++) {
        item = strip(K[k])
        a = parse_ip(item)
        if (a == "") { note(k8svar "=" value ": \047" item "\047 is not an IP address"); continue }
        if (wants(fams, FAM)) add(FAM, a, k8svar "=" value)
    }
    if (FOUND[4] == "" && FOUND[6] == "") note(k8svar "=" value " has no " wanted(fams) " address")
    return 1
}
function s_hostnet(fams,   ev) {
    if (hostnet == "") { WHY = hostnet_why; return 1 }
    ev = root "/sys/class/net/" hostnet "/bridge: the runtime\047s bridge is in our own network namespace, so we share the host\047s network and published ports answer on loopback"
    if (wants(fams, 4)) add(4, "127.0.0.1", ev)
    if (wants(fams, 6)) add(6, "::1", ev)
    return 1
}
function judge(f, gw, first, iface, where) {
    if (f == 4) {
        if (gw ~ /^169\.254\./) {
            note(where ": gateway " gw " is link-local: a CNI\047s stand-in answered by proxy ARP (Calico, AWS VPC CNI), not the node; pass the node address as HOST_IP from status.hostIP, or set HOSTGW_IP")
            return ""
        }
        return gw
    }
    if (first >= 65152 && first <= 65215) {
        if (gw == "fe80::ecee:eeff:feee:eeee") {
            note(where ": gateway " gw " is Calico\047s fixed link-local next hop, not the node; pass the node address as HOST_IP from status.hostIP, or set HOSTGW_IP")
            return ""
        }
        if (!zonelike(iface)) {
            note(where ": link-local next hop " gw " is usable only with its interface, and the name \047" iface "\047 cannot be a zone (A-Z a-z 0-9 _ . - only); set HOSTGW_IP to a global address of the host")
            return ""
        }
        JUDGED = "; link-local next hop, usable only with its interface, " iface
        return gw "%" iface
    }
    return gw
}
function s_route(fams,   f, file, nd, gw, first, iface, line, metric, skipped, unread, where, a, nodef) {
    nodef = 0
    for (f = 4; f <= 6; f += 2) {
        if (!wants(fams, f)) continue
        if (f == 4) { file = miss_route4; nd = nd4; gw = gw4; iface = if4; line = l4; metric = m4t; skipped = skip4; first = 0 }
        else { file = miss_route6; nd = nd6; gw = gw6; iface = if6; line = l6; metric = m6t; skipped = skip6; first = first6 }
        if (file != "") { note(file); continue }
        file = root (f == 4 ? "/proc/net/route" : "/proc/net/ipv6_route")
        unread = skipped > 0 ? " (" skipped " unreadable line(s) skipped)" : ""
        if (nd == 0) { note(file ": no default route" unread); nodef++; continue }
        where = file ":" line
        if (gw == "") { note(where ": the default route on " iface " has no gateway (on-link)"); continue }
        JUDGED = ""
        a = judge(f, gw, first, iface, where)
        if (a == "") continue
        add(f, a, where ": default via " gw " dev " iface " metric " metric \
            (nd > 1 ? ", lowest metric of " nd " defaults" : "") JUDGED unread)
    }
    if (FOUND[4] == "" && FOUND[6] == "" && nodef > 0 && nodef == length(fams)) note("an internal network has none")
    return 1
}
function run(name, fams) {
    clear()
    if (name == "env") return s_env(fams)
    if (name == "hosts") return s_hosts(fams)
    if (name == "k8s") return s_k8s(fams)
    if (name == "host-network") return s_hostnet(fams)
    if (name == "route") return s_route(fams)
    WHY = "not in the sh drop-in (needs Python hostgw)"
    return 1
}
# A comma-separated setting as hostgw reads it: items stripped, empty ones dropped.
function items(value,   n, i, out, it) {
    n = split(value, IT, ",")
    out = ""
    for (i = 1; i <= n; i++) {
        it = strip(IT[i])
        if (it != "") out = out (out == "" ? "" : ",") it
    }
    return out
}
function usage(msg, hint) {
    say(msg); say("hint: " hint); close("cat 1>&2"); exit 2
}
function pick(fams) {
    if (fams != "6" && FOUND[4] != "") { PF = 4; return FOUND[4] }
    if (fams != "4" && FOUND[6] != "") { PF = 6; return FOUND[6] }
    return ""
}

END {
    hostsfile = root "/etc/hosts"
    # The options, read as hostgw reads them.
    order = items(ENVIRON["HOSTGW_STRATEGIES"])
    if (order == "") order = "env,hosts,k8s,host-network,dns,route,netlink,netifaces"
    n = split(order, S, ",")
    m = 0
    for (i = 1; i <= n; i++) {
        if (S[i] !~ /^(env|hosts|k8s|host-network|dns|route|netlink|netifaces)$/) {
            usage("HOSTGW_STRATEGIES: unknown strategy \047" S[i] "\047", "choose from env, hosts, k8s, host-network, dns, route, netlink, netifaces")
        }
        if (!((S[i]) in DUP)) { DUP[S[i]] = 1; ORD[++m] = S[i] }
    }
    names = items(ENVIRON["HOSTGW_NAMES"])
    if (names ~ /[ \t]/) usage("HOSTGW_NAMES: names must be hostnames without blanks: " names, "separate names with commas")
    if (names == "") names = "host.docker.internal,host.containers.internal"
    shownnames = names
    k8svar = strip(ENVIRON["HOSTGW_K8S_VAR"])
    if (k8svar == "") k8svar = "HOST_IP"
    all = fam == "" ? "46" : fam

    # The walk: the first strategy with an answer wins (IPv4, else IPv6);
    # later ones are asked for IPv6 only, for HOSTGW_IP6.
    chosen = ""; v6 = ""
    for (i = 1; i <= m; i++) {
        if (chosen == "") fams = all
        else if (v6 == "" && wants(all, 6) && want6 == "1") fams = "6"
        else break
        ok = run(ORD[i], fams)
        a = pick(fams == all ? fam : "6")
        TRIED[i] = ORD[i] ": " (a != "" ? a " (" DETAIL[PF] ")" : (WHY != "" ? WHY : "no answer"))
        if (!ok) {
            say(FATAL)
            say("hint: " FATAL_HINT)
            close("cat 1>&2"); exit 3
        }
        here = chosen == "" && a != "" && fams == all
        if (here) { chosen = a; cfam = PF; cname = ORD[i]; cdetail = DETAIL[PF] }
        if (v6 == "" && FOUND[6] != "" && wants(fams, 6)) v6 = FOUND[6]
        # An explicit override ends the search: no other probing, not even for IPv6.
        if (here && ORD[i] == "env") break
    }
    if (chosen == "") {
        say("no " wanted(fam) " gateway found; tried, in order of trust:")
        for (i = 1; i <= m && ((i) in TRIED); i++) say("  " TRIED[i])
        say("hint: tell hostgw where the host is: set HOSTGW_IP=<host address>, or start the container with --add-host=host.docker.internal:host-gateway, or in Kubernetes set HOST_IP from status.hostIP (env valueFrom.fieldRef.fieldPath: status.hostIP)")
        close("cat 1>&2"); exit 3
    }
    if (fam == "4") v6 = ""
    if (verbose == "1") { say("HOSTGW_IP=" chosen " from " cname " (" cdetail ")"); close("cat 1>&2") }
    print chosen, (cfam == 6 ? "[" chosen "]" : chosen), (v6 == "" ? "-" : v6)
}' "$@" kind=none /dev/null
}

_hostgw_bigendian() {
    # /proc/net/route prints addresses in the CPU's byte order.
    case $(uname -m 2>/dev/null) in
        s390*|ppc|ppc64|powerpc|powerpc64|mips|mips64|sparc*|m68k|hppa*|or1k) echo 1 ;;
        *) echo 0 ;;
    esac
}

_hostgw_quote() {
    # $1 in single quotes, for `eval` and env files.
    _hq=$1
    _hd=
    while :; do
        case $_hq in
            *\'*) _hd="$_hd${_hq%%\'*}'\\''"; _hq=${_hq#*\'} ;;
            *) break ;;
        esac
    done
    printf "'%s%s'" "$_hd" "$_hq"
}

if [ "${0##*/}" != sh ] && [ -f "$0" ] && [ -r "$0" ] \
    && [ "$(awk 'NR == 2 { print; exit }' "$0" 2>/dev/null)" = "# hostgw-snippet-sh: finds the container host's address without Python" ]; then
    # Executed as a script: print, and exit with a status.
    _hostgw_fam=
    _hostgw_mode="export"
    for _hostgw_a in "$@"; do
        case $_hostgw_a in
            -4) _hostgw_fam=4 ;;
            -6) _hostgw_fam=6 ;;
            export|ip|host) _hostgw_mode=$_hostgw_a ;;
            -h|--help)
                awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
                exit 0 ;;
            *)
                echo "hostgw-sh: unknown argument '$_hostgw_a'; usage: sh $0 [-4|-6] [export|ip|host]" >&2
                exit 2 ;;
        esac
    done
    _hostgw_walk=ip
    if [ "$_hostgw_mode" = export ]; then
        _hostgw_walk="export"
    fi
    _hostgw_out=$(_hostgw_find "$_hostgw_fam" "$_hostgw_walk") || exit $?
    _hostgw_ip=${_hostgw_out%% *}
    _hostgw_out=${_hostgw_out#* }
    _hostgw_host=${_hostgw_out%% *}
    _hostgw_ip6=${_hostgw_out#* }
    case $_hostgw_mode in
        ip) echo "$_hostgw_ip" ;;
        host) echo "$_hostgw_host" ;;
        export)
            echo "export HOSTGW_IP=$(_hostgw_quote "$_hostgw_ip")"
            echo "export HOSTGW_HOST=$(_hostgw_quote "$_hostgw_host")"
            if [ "$_hostgw_ip6" != - ]; then
                echo "export HOSTGW_IP6=$(_hostgw_quote "$_hostgw_ip6")"
            fi ;;
    esac
    exit 0
fi

# Sourced: export into the sourcing shell; never exit it.
if _hostgw_out=$(_hostgw_find "" sourced); then
    HOSTGW_IP=${_hostgw_out%% *}
    _hostgw_out=${_hostgw_out#* }
    HOSTGW_HOST=${_hostgw_out%% *}
    _hostgw_out=${_hostgw_out#* }
    export HOSTGW_IP HOSTGW_HOST
    if [ "$_hostgw_out" != - ]; then
        HOSTGW_IP6=$_hostgw_out
        export HOSTGW_IP6
    fi
    unset _hostgw_out
    unset -f _hostgw_find _hostgw_bigendian _hostgw_quote
else
    # Nothing usable: no value (a hostname nothing here resolves, say) stays behind raw.
    unset _hostgw_out HOSTGW_IP HOSTGW_IP6 HOSTGW_HOST
    unset -f _hostgw_find _hostgw_bigendian _hostgw_quote
    if [ "${HOSTGW_REQUIRED:-0}" = 1 ]; then
        echo "hostgw-sh: HOSTGW_REQUIRED=1: stopping" >&2
        false
    else
        echo "hostgw-sh: HOSTGW_IP left unset; going on (HOSTGW_REQUIRED=1 would stop here)" >&2
    fi
fi
