"""What a substituted value may hold, by target format and by where the reference lands.

Pure. A value must not change the structure of the config it goes into:
the directives, their nesting, their comments, and every argument the
template wrote. Where that can happen depends on the format (nginx,
HAProxy, Apache, Caddy) and on the lexical context of the reference: a
bare word, a double- or single-quoted string, a Caddy backtick string or
heredoc, a comment. :func:`contexts` reads the rendered output as the
proxy's lexer would (a reference that rendered empty is not there) and says
which context each value lands in; :func:`refusal` says what in a value is
refused there, and why. A format that is not known
gets the union of every format's bare-word rule (except ``$``, which only
HAProxy and Apache expand).

Everywhere: a newline, a carriage return (HAProxy ends a line there), NUL,
and a trailing backslash (it would escape or continue what follows).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from hostgw.formats import CADDY_BLANKS, LUA_BLOCK, LUA_LONG_OPEN, LUA_STRINGS
from hostgw.record import Record

WORD, DQ, SQ, BQ, COMMENT, HEREDOC = "word", "dq", "sq", "bq", "comment", "heredoc"
COND = "cond"  # HAProxy's .if/.elif line: an expression, which quotes do not protect
# The body of nginx's *_by_lua_block, which ngx_lua reads as Lua to find where it ends:
# code, its short strings, a long string or comment ([[ ]], --[==[ ]==]), a comment.
LUA, LUA_DQ, LUA_SQ, LUA_LONG, LUA_COMMENT = "lua", "lua-dq", "lua-sq", "lua-long", "lua-comment"
_LUA_STATES = frozenset((LUA, LUA_DQ, LUA_SQ, LUA_LONG, LUA_COMMENT))
# Caddy reads a directive's first argument as a matcher when it starts with '/', '@' or
# '*' (quoted or not): a value that starts that argument must not.
MATCHER = "matcher"
# Caddy ends a heredoc where its text first ends in the marker: a value that completes
# the marker there ends it, and what follows is read as directives.
ENDS = "ends"
_MATCHER_START = b"/@*"
# A value that begins a line's first word: HAProxy reads ".if", ".else", ".endif"...
# there as a conditional block, Apache a '#' as a comment.
FIRST = "first"
_FIRST_START = {"haproxy": b".", "apache": b"#"}
# An Apache Define's text is put, as it is, wherever "${NAME}" names it, before the
# line is split into words: a value in a Define line must be safe in every context.
DEFINE = "define"
# nginx: a value that begins a statement's name (it could name a *_by_lua_block).
NAME = "name"
_DEFINE_REFUSED = b"\"'<>#\\ \t\f\v"
# Caddy, a bare word: which of the line's tokens the value's first byte begins ("tok3")
# or goes on with ("tok3~"); a token of the value that becomes the directive's first
# argument must not start a matcher, nor the line's first one a snippet's "(name)".
TOKEN = "tok"  # noqa: S105 - a role, no secret
_WHERE = {
    WORD: "a bare word",
    DQ: "a double-quoted string",
    SQ: "a single-quoted string",
    BQ: "a backtick string",
    COMMENT: "a comment",
    HEREDOC: "a heredoc",
    COND: "a .if condition",
    LUA: "the Lua code of a *_by_lua_block",
    LUA_DQ: "a Lua double-quoted string",
    LUA_SQ: "a Lua single-quoted string",
    LUA_LONG: "a Lua long string or comment",
    LUA_COMMENT: "a Lua comment",
}

_ALWAYS = b"\n\r\x00"
_BLANKS = b" \t\f\v"  # HAProxy's and Apache's (C's isspace, but the line's end)

# format -> context -> characters refused there (besides _ALWAYS and a trailing '\').
# A backslash in a bare word escapes what follows (a blank too) in nginx, HAProxy and
# Caddy, so it is refused there; in quotes, and in Apache, only a trailing one is.
RULES: dict[str, dict[str, bytes]] = {
    "nginx": {
        WORD: b";{}#\"'\\",
        DQ: b'"',
        SQ: b"'",
        COMMENT: b"",
        # What could move the end of a Lua block (judged only in a template with one).
        LUA: b"{}[]\"'\\-=",
        LUA_DQ: b'"\\',
        LUA_SQ: b"'\\",
        LUA_LONG: b"]",
        LUA_COMMENT: b"[",
    },
    "haproxy": {
        WORD: b"#\"'${}\\",
        DQ: b'"$',
        SQ: b"'",
        COMMENT: b"",
        COND: b"#\"'${}\\(),|&! \t\f\v",
    },
    "apache": {WORD: b"\"'<>", DQ: b'"', SQ: b"'", COMMENT: b""},
    # A heredoc (Caddy 2.7+) gets the word's rule: Caddy 2.6 has no heredocs.
    "caddy": {
        WORD: b"{}#\"'`<\\",
        DQ: b'"{}',
        BQ: b"`{}",
        HEREDOC: b"{}#\"'`<\\",
        # Caddy expands {$NAME} before it reads the file, in comments too; and a
        # backslash in a comment escapes what follows, the line's end included.
        COMMENT: b"{\\",
    },
}
_UNION = bytes(sorted(set(b"".join(r[WORD] for r in RULES.values())) - {ord("$")}))
RULES_UNKNOWN = {WORD: _UNION}

# What each character would do, for the message.
_EFFECT = {
    ";": "ends a directive",
    "{": "opens a block",
    "}": "closes a block",
    "#": "starts a comment",
    '"': "opens or closes a quoted string",
    "'": "opens or closes a quoted string",
    "`": "opens or closes a backtick string",
    "$": "is expanded by HAProxy from its own environment",
    "<": "can open a section or a heredoc",
    "[": "can open a Lua long string or comment",
    "]": "can close a Lua long string or comment",
    "-": "can start a Lua comment",
    "=": "can make a Lua long bracket",
    ">": "can close a section",
    "\n": "ends the line",
    "\r": "ends the line for HAProxy",
    "\x00": "ends the text",
    "\\": "escapes or continues what follows",
    "${": "is expanded by Apache from its defines and environment",
    "(": "changes the condition",
    ")": "changes the condition",
    ",": "changes the condition",
    "|": "changes the condition",
    "&": "changes the condition",
    "!": "changes the condition",
    " ": "changes the condition",
    "\t": "changes the condition",
}
# Where a character does something else than _EFFECT says.
_EFFECT_IN: dict[tuple[str | None, str, str], str] = {
    ("caddy", COMMENT, "{"): "can open a {$NAME} placeholder, which Caddy expands "
    "before it reads the file (up to the next '}', comments included)",
    ("caddy", COMMENT, "\\"): "escapes the comment's line end, so the next line joins it",
    ("nginx", LUA, "{"): "moves where nginx reads the Lua block's end",
    ("nginx", LUA, "}"): "moves where nginx reads the Lua block's end",
}


def rules(fmt: str | None) -> dict[str, bytes]:
    """The refused characters by context for ``fmt`` (None: unknown, the union)."""
    return RULES.get(fmt or "", RULES_UNKNOWN)


def around(text: bytes, start: int, end: int) -> tuple[bytes, bytes]:
    """The bytes right before and right after ``text[start:end]`` (empty at an end)."""
    return text[start - 1 : start] if start else b"", text[end : end + 1]


def suspect(value: bytes, fmt: str | None) -> bool:
    """True if ``value`` could be refused somewhere in ``fmt`` (else it is safe anywhere)."""
    if value.endswith(b"\\") or _suspects(fmt).search(value) is not None:
        return True
    if fmt == "caddy":
        # a token that may become a matcher or a snippet's name; "{$" with a '{' before
        return _regex(_CADDY_TOKEN_START).search(value) is not None or value.startswith(b"$")
    if fmt in _FIRST_START and value.lstrip(_BLANKS).startswith(_FIRST_START[fmt]):
        return True  # it may begin a line's first word
    if fmt in ("nginx", "apache") and value.endswith(b"$"):
        return True  # it may make "${" with a '{' after it
    if fmt == "nginx" and _LUA_NAME in value:
        return True  # it may name a Lua block
    return fmt == "apache" and (
        b"${" in value or value.startswith(b"{") or any(c in value for c in _BLANKS)
    )  # (a blank may be in a Define's text)


def judges_every(data: bytes, fmt: str | None) -> bool:
    """True if any value in the template ``data`` may be refused, whatever it holds: a
    Caddy heredoc ends where its marker first appears, which a value may hold; in
    nginx's Lua blocks a value may move where the block ends."""
    return (fmt == "caddy" and b"<<" in data) or (fmt == "nginx" and _LUA_NAME in data)


@lru_cache(maxsize=8)
def _suspects(fmt: str | None) -> re.Pattern[bytes]:
    """Any character refused in some context of ``fmt`` (Lua's: see :func:`judges_every`)."""
    refused = set(_ALWAYS).union(*(v for k, v in rules(fmt).items() if k not in _LUA_STATES))
    return re.compile(b"[" + re.escape(bytes(sorted(refused))) + b"]")


class Refusal(Record):
    """Why a value is refused where it lands."""

    char: str  # the character (or sequence) refused
    offset: int  # where it is in the value
    reason: str  # for the message: what it would do, in which context
    fix: str  # how to render it anyway


# Where a pair across a value's edge ("${": its last '$' and a '{' after it, or a '$'
# before its first '{') starts what the proxy reads as a variable, by format: the
# pair, the contexts, and what it does there (for the message).
_JOINS = {
    "nginx": (b"${", (WORD,), "so the '{' is part of a word and opens no block"),
    "haproxy": (b"${", (WORD, DQ, COND), "which HAProxy expands from its own environment"),
    "apache": (b"${", (WORD, DQ, SQ), "which Apache expands from its defines and environment"),
    "caddy": (
        b"{$",
        (WORD, DQ, BQ, COMMENT, HEREDOC),
        "a placeholder that Caddy expands from its environment before it reads the file",
    ),
}


def refusal(
    value: bytes, fmt: str | None, context: str, *, around: tuple[bytes, bytes] = (b"", b"")
) -> Refusal | None:
    """None if ``value`` is safe in ``context`` of ``fmt``; else the first refused
    character. ``around``: the bytes right before and after the value where it lands."""
    table = rules(fmt)
    if context == f"{HEREDOC}+{ENDS}":
        return Refusal(
            "the heredoc's end marker",
            0,
            "ends the heredoc in a heredoc of caddy, so the text after it is read as directives",
            "change the value, or the heredoc's marker to one no value holds",
        )
    context, *roles = context.split("+")
    placed = _placed(value, fmt or "", context, roles)
    if placed is not None:
        return placed
    refused = _ALWAYS + table.get(context, table[WORD])
    if DEFINE in roles:
        refused += _DEFINE_REFUSED
    found = [(value.find(bytes([c])), chr(c)) for c in set(refused)]
    hits = sorted((at, ch) for at, ch in found if at >= 0)
    if fmt == "apache" and context != COMMENT and b"${" in value:
        hits.append((value.find(b"${"), "${"))
        hits.sort()
    if not hits and value.endswith(b"\\"):
        hits = [(len(value) - 1, "\\")]
    if not hits and context in _JOINS.get(fmt or "", (b"", (), ""))[1]:
        joined = _joined(value, fmt or "", context, around)
        if joined is not None:
            return joined
    if not hits:
        return None
    at, ch = hits[0]
    where = f"{_WHERE[context]} of {fmt or 'a config of unknown format'}"
    effect = _EFFECT_IN.get((fmt, context, ch)) or _EFFECT.get(ch, "changes the structure")
    reason = f"{effect} in {where}"
    if DEFINE in roles and ch in _DEFINE_REFUSED.decode():
        there = "splits a word" if ch in _BLANKS.decode() else _EFFECT.get(ch, "splits a word")
        reason = (
            f"is in a Define's text, which Apache puts wherever ${{NAME}} names it, before "
            f"it splits the line into words: there it {there}"
        )
    if fmt is None:  # every reference is a bare word here: quotes do not count
        fix = (
            "name the format with --format nginx|haproxy|apache|caddy (of an unknown format "
            "every reference is read as a bare word, quoted or not), or pass --raw NAME if "
            "the value is config"
        )
    elif context == WORD and ch not in "\n\r\x00\\":
        fix = "quote the reference in the template, or pass --raw NAME if the value is config"
    else:
        fix = "pass --raw NAME only if the value is meant to add config structure"
    return Refusal(ch, at, reason, fix)


def _placed(value: bytes, fmt: str, context: str, roles: list[str]) -> Refusal | None:
    """The refusal of a value by what it becomes where it lands: a Caddy matcher or
    snippet, a HAProxy conditional line, an Apache comment, a Lua block's name or
    long bracket (the first rule of :data:`_PLACED` that refuses it)."""
    for rule in _PLACED:
        found = rule(value, fmt, context, roles)
        if found is not None:
            return found
    return None


def _quoted_matcher(value: bytes, _fmt: str, context: str, roles: list[str]) -> Refusal | None:
    """Caddy: a value that starts a quoted first argument."""
    if MATCHER in roles and value[:1] and value[0] in _MATCHER_START:
        return _matcher(value, 0, context)
    return None


def _lua_bracket(value: bytes, _fmt: str, context: str, _roles: list[str]) -> Refusal | None:
    """nginx Lua: '=' alone, between the template's brackets, makes a long bracket."""
    if context in (LUA_LONG, LUA_COMMENT) and value and not value.strip(b"="):
        return Refusal(
            "=",
            0,
            f"can make a Lua long bracket with the brackets beside it in {_WHERE[context]}",
            "change the value, or pass --raw NAME",
        )
    return None


def _lua_name(value: bytes, _fmt: str, _context: str, roles: list[str]) -> Refusal | None:
    """nginx: a value in a statement's name that names a Lua block."""
    if NAME in roles and _LUA_NAME in value:
        return Refusal(
            _LUA_NAME.decode(),
            value.find(_LUA_NAME),
            "names a Lua block, whose body nginx then reads as Lua",
            "write the directive's name in the template, or pass --raw NAME",
        )
    return None


def _first_word(value: bytes, fmt: str, _context: str, roles: list[str]) -> Refusal | None:
    """HAProxy, Apache: a value that begins a line's first word."""
    start = len(value) - len(value.lstrip(_BLANKS))
    if FIRST in roles and value[start : start + 1] == _FIRST_START[fmt]:
        what = "a conditional block's line" if fmt == "haproxy" else "a comment"
        return Refusal(
            chr(value[start]),
            start,
            f"would make the line {what} (it begins the line's first word in {fmt})",
            "start the value with another character, or pass --raw NAME",
        )
    return None


def _caddy_words(value: bytes, _fmt: str, context: str, roles: list[str]) -> Refusal | None:
    """Caddy, a bare word: each word of the value, placed among the line's tokens."""
    token = next((r for r in roles if r.startswith(TOKEN)), None)
    if token is None:
        return None
    index, in_token = int(token[len(TOKEN) :].rstrip("~")), token.endswith("~")
    index -= 0 if in_token else 1
    pos = 0
    for gap in [*_regex(_CADDY_BLANKS).finditer(value), None]:
        end = len(value) if gap is None else gap.start()
        if end > pos and not in_token:
            index += 1
            if index == 1 and value[pos] in _MATCHER_START:
                return _matcher(value, pos, context)
            if index == 0 and value[pos] == 0x28:  # '('
                return Refusal(
                    "(",
                    pos,
                    "would make a site's address a snippet's name, (name), in caddy",
                    "start the value with another character, or pass --raw NAME",
                )
        in_token = False
        if gap is not None:
            pos = gap.end()
    return None


_PLACED = (_quoted_matcher, _lua_bracket, _lua_name, _first_word, _caddy_words)


def _matcher(value: bytes, at: int, context: str) -> Refusal:
    what = f"starts {_WHERE[context]} of caddy"
    return Refusal(
        chr(value[at]),
        at,
        f"would make the directive's first argument a matcher ({what})",
        "start the value with another character, or pass --raw NAME",
    )


def _joined(value: bytes, fmt: str, context: str, around: tuple[bytes, bytes]) -> Refusal | None:
    """The refusal of a value whose first or last character makes the format's pair
    ("${", Caddy's "{$") with the template's text beside it."""
    pair, _, effect = _JOINS[fmt]
    opener, second = pair[:1], pair[1:]
    if around[0] == opener and value.startswith(second):
        at, ch, side = 0, second.decode(), f"the '{opener.decode()}' before it"
    elif around[1] == second and value.endswith(opener):
        at, ch, side = len(value) - 1, opener.decode(), f"the '{second.decode()}' after it"
    else:
        return None
    return Refusal(
        ch,
        at,
        f"makes '{pair.decode()}' with {side} in {_WHERE[context]} of {fmt}, {effect}",
        "change the value's first or last character, or the template's text beside "
        "the reference (or pass --raw NAME if it is meant to)",
    )


# -- the lexers: which context does each reference land in ---------------------------


def contexts(
    data: bytes, fmt: str | None, offsets: Sequence[int], opaque: Iterable[tuple[int, int]]
) -> list[str]:
    """The context at each of ``offsets`` (increasing) in ``data``, the text as the
    proxy will read it (the rendered output).

    ``opaque`` are spans (start, end) read as one run of word characters: the
    values being judged, so that one refused does not change what is read after
    it. An unknown format has one context, the word.
    """
    if fmt not in RULES:
        return [WORD] * len(offsets)
    lexer = _Lexer(data, fmt, sorted(opaque))
    return [lexer.at(offset) for offset in offsets]


# Runs of characters that change no state, per format (a reference starts at '$').
# nginx's blanks are space, tab, CR and LF only (ngx_conf_read_token): a form feed
# or vertical tab is a word character there; the others read them as blanks.
# Caddy's blanks are Unicode's (Go's unicode.IsSpace), and it drops a CR.
_PLAIN = {
    "nginx": rb"[^ \t\r\n;{}#\"'\\$]+",
    "haproxy": rb"[^\s#\"'\\$]+",
    "apache": rb"[^\s\"'\\$#]+",
    "caddy": rb"[^\s#\"'`\\<$\x80-\xff]+",
}
# UTF-8 of Caddy's blanks above ASCII (U+0085, U+00A0, U+1680, U+2000-U+200A, ...).
_UNICODE_BLANK = b"|".join(re.escape(c.encode()) for c in CADDY_BLANKS if c > "\x7f")
# A value's blanks, where Caddy splits it into tokens (CR and LF are refused anyway).
_ASCII_BLANKS = re.escape(bytes(c for c in CADDY_BLANKS.encode() if c < 0x80))
_CADDY_BLANKS = rb"(?:[" + _ASCII_BLANKS + rb"]|" + _UNICODE_BLANK + rb")+"
_CADDY_TOKEN_START = rb"(?:^|" + _CADDY_BLANKS + rb")[/@*(]"
_HEREDOC = rb"<<([A-Za-z0-9_-]+)[ \t]*\r?\n"
_COND_LINE = rb"\.(?:el)?if(?:[ \t]|$)"
_LUA_NAME = LUA_BLOCK.encode()
_NGINX_NAME = rb"[\"']?([^ \t\r\n;{\"']*)"
# In Lua code: a long bracket's opening (a comment's too), a comment, a quote, a brace.
_LUA_TOKEN = LUA_LONG_OPEN.encode() + rb"|--|[\"'{}]"
_LUA_QUOTED = {LUA_DQ: rb'[\\\n"]', LUA_SQ: rb"[\\\n']"}
_LUA_STRING = {q.encode(): p.encode() for q, p in LUA_STRINGS.items()}
_DEFINE_LINE = rb"(?i:define)(?:[ \t]|$)"


@lru_cache(maxsize=16)
def _regex(pattern: bytes) -> re.Pattern[bytes]:
    """``pattern`` compiled on first use (not at import: start-up pays for nothing)."""
    return re.compile(pattern)


def _plain(fmt: str) -> re.Pattern[bytes]:
    return _regex(_PLAIN[fmt])


class _Lexer:
    """A forward-only reader of one format's lexical states (linear in the text)."""

    def __init__(self, data: bytes, fmt: str, opaque: list[tuple[int, int]]) -> None:
        self.data = data
        self.fmt = fmt
        self.opaque = opaque
        self.k = 0  # next opaque span
        self.pos = 0
        self.state = WORD
        self.quote = 0
        self.token_start = True  # at the start of a token (nginx, Caddy: '#' and quotes)
        self.line_start = True  # only blanks so far on this line (Apache: '#')
        self.marker = b""  # Caddy heredoc end marker
        self.heredoc_end = -1  # where the open heredoc ends (-1: nowhere)
        self.escaped = False  # Caddy: the comment being read escapes its line's end
        self.line_start_next = False
        self.words = 0  # tokens begun on this line (Caddy: which argument is this)
        self.plain = _plain(fmt)
        self.begin = 0  # where the current token's text begins
        self.no_close = len(data) + 1  # HAProxy: no '}' at or after this offset
        self.cond = False  # HAProxy: this line is a .if or .elif condition
        self.define = False  # Apache: this line is a Define
        self.statement = True  # nginx: the next token begins a statement (its name)
        self.name_at = 0  # nginx: where the statement's name begins
        self.lua_depth = 0  # nginx: the braces open in a Lua block
        self.closer = b""  # Lua: the open long bracket's closing, "]==]"
        self.unclosed: dict[bytes, int] = {}  # Lua: a quote opens no string up to here

    def at(self, offset: int) -> str:
        """The context at ``offset`` (not before the last one asked), with the roles a
        value there takes after ``+``: Caddy's token (``tok1``, ``tok1~``: see
        :data:`TOKEN`) or ``matcher`` (it starts a quoted first argument),
        ``first`` (HAProxy, Apache: it begins the line's first word), ``define``
        (Apache: a Define line), ``ends`` (a Caddy heredoc's marker)."""
        while self.pos < offset:
            self._step(offset)
        state, fmt = self.state, self.fmt
        if self.cond and state != COMMENT:
            return COND
        role = ""
        if state == HEREDOC and self._ends_heredoc(offset):
            role = ENDS
        elif fmt == "caddy" and state == WORD:
            starts = self.token_start
            role = f"{TOKEN}{self.words if starts else self.words - 1}{'' if starts else '~'}"
        elif fmt == "caddy" and state in (DQ, BQ) and self.begin == offset and self.words == 2:
            role = MATCHER
        elif fmt == "apache" and self.define and state != COMMENT:
            role = DEFINE
        elif fmt == "nginx" and state == WORD and self.statement and self.token_start:
            role = NAME
        elif fmt in _FIRST_START and state == WORD:
            first = self.line_start if fmt == "apache" else self.token_start and not self.words
            role = FIRST if first else ""
        return f"{state}+{role}" if role else state

    def _ends_heredoc(self, offset: int) -> bool:
        """Whether the opaque span at ``offset`` holds the end of the open heredoc."""
        k = self.k
        while k < len(self.opaque) and self.opaque[k][1] <= offset:
            k += 1
        if k == len(self.opaque) or self.opaque[k][0] > offset:
            return False
        return offset < self.heredoc_end <= self.opaque[k][1]

    def _skip_opaque(self) -> bool:
        while self.k < len(self.opaque) and self.opaque[self.k][1] <= self.pos:
            self.k += 1
        if self.k < len(self.opaque) and self.opaque[self.k][0] <= self.pos:
            # (an escape before it may have stepped into it: it is skipped all the same)
            if self.token_start:
                self.words += 1
                self.begin = self.pos
                if self.statement and self.state == WORD:
                    self.name_at, self.statement = self.pos, False
            self.pos = self.opaque[self.k][1]
            self.token_start = self.line_start = False
            return True
        return False

    def _continued(self, i: int) -> int | None:
        """Where the next line goes on, if a backslash at ``i`` ends this one."""
        data = self.data
        if data[i] != 0x5C:
            return None
        if data[i + 1 : i + 2] == b"\n":
            return i + 2
        return i + 3 if data[i + 1 : i + 3] == b"\r\n" else None

    def _step(self, limit: int) -> None:
        if self.fmt == "apache":
            # Apache joins a line that ends in a backslash to the next before it reads
            # it, whatever the line holds: quotes, a comment, another backslash.
            joined = self._continued(self.pos)
            if joined is not None:
                self.pos = joined
                return
        if self.state != COMMENT and self._skip_opaque():
            return
        if self.state == COMMENT:
            self._comment(limit)
        elif self.state == HEREDOC:
            self._heredoc(limit)
        elif self.state in (DQ, SQ, BQ):
            self._quoted(self.data[self.pos])
        elif self.state in _LUA_STATES:
            self._lua(limit)
        else:
            self._word(limit)

    def _lua(self, limit: int) -> None:
        """A step in a Lua block, as ngx_lua reads it to find the block's end."""
        data, pos, state = self.data, self.pos, self.state
        if state == LUA:
            self._lua_code(limit)
            return
        if state in _LUA_QUOTED:
            m = _regex(_LUA_QUOTED[state]).search(data, pos, limit)
            if m is None:
                self.pos = limit
            elif m.group() == b"\\":  # escapes what follows, but not the line's end
                self.pos = m.end() + (data[m.end() : m.end() + 1] != b"\n")
            else:  # the closing quote, or the line's end (ngx_lua: no string)
                self.pos, self.state = m.end(), LUA
            return
        end = data.find(self.closer if state == LUA_LONG else b"\n", pos, limit)
        if end < 0:
            self.pos = limit
        else:
            self.pos = end + (len(self.closer) if state == LUA_LONG else 1)
            self.state = LUA

    def _lua_code(self, limit: int) -> None:
        m = _regex(_LUA_TOKEN).search(self.data, self.pos, limit)
        if m is None:
            self.pos = limit
            return
        self.pos, tok = m.end(), m.group()
        if m.group(1) is not None:
            self.state, self.closer = LUA_LONG, b"]" + m.group(1) + b"]"
        elif tok == b"--":
            self.state = LUA_COMMENT
        elif tok in (b'"', b"'"):
            # ngx_lua reads a string only where it closes on its line; else the quote
            # is code. (Once one does not close, none of that quote after it on the line
            # does: the scan from there is the same scan.)
            if self.pos > self.unclosed.get(tok, -1):
                string = _regex(_LUA_STRING[tok]).match(self.data, self.pos - 1)
                if string is not None:
                    self.state = LUA_DQ if tok == b'"' else LUA_SQ
                    return
                end = self.data.find(b"\n", self.pos)
                self.unclosed[tok] = len(self.data) if end < 0 else end
        else:
            self.lua_depth += 1 if tok == b"{" else -1
            if not self.lua_depth:  # the block's end: nginx reads on
                self.state, self.token_start, self.statement = WORD, True, True

    def _statement_ends(self, c: int) -> None:
        """nginx: ``;``, ``{`` or ``}`` at ``c``; a ``*_by_lua_block``'s ``{`` opens Lua."""
        self.token_start = self.statement = True
        name = _regex(_NGINX_NAME).match(self.data, self.name_at)
        if c == 0x7B and name is not None and name.group(1).endswith(_LUA_NAME):
            self.state, self.lua_depth = LUA, 1

    def _comment(self, limit: int) -> None:
        data = self.data
        end = data.find(b"\n", self.pos, limit)
        if self.fmt == "caddy" and data.find(b"\\", self.pos, limit if end < 0 else end) >= 0:
            self.escaped = True  # Caddy: a backslash in a comment escapes the line's end
        if end < 0:
            self.pos = limit
        elif self.fmt == "apache" and data[end - 1 : end] in (b"\\", b"\r"):
            # a backslash right before the line's end (or before CR LF) joins the next line
            self.pos = end - 1 if data[end - 1 : end] == b"\\" else end - 2
            if self._continued(self.pos) is None:
                self.pos = end + 1
                self._comment_ends()
        else:
            self.pos = end + 1
            self._comment_ends()

    def _comment_ends(self) -> None:
        self.state = WORD
        self.token_start = self.line_start = True
        if self.escaped:  # (Caddy) the line goes on: the next token is the next argument
            self.escaped = False
            return
        self.words = 0
        self.cond = self.define = False

    def _word(self, limit: int) -> None:
        data, i, fmt = self.data, self.pos, self.fmt
        c = data[i]
        if fmt == "caddy" and self._caddy_blank(i):
            return
        starts = self.token_start
        self.token_start = self.line_start_next = False
        self.pos = i + 1
        blanks = b" \t\r\n" if fmt == "nginx" else b" \t\r\n\f\v"
        if starts and c not in blanks:
            self._token_begins(i)
        if c in blanks:
            self.token_start = True
            if c == 0x0A:
                self.line_start_next = True
                self.words = 0
                self.cond = self.define = False
        elif c == 0x23 and (  # '#'
            fmt == "haproxy"
            or (fmt in ("nginx", "caddy") and starts)
            or (fmt == "apache" and self.line_start)
        ):
            self.state = COMMENT
            self.words -= starts  # a comment is no token (nor a statement's name)
            self.statement = self.statement or (starts and self.name_at == i)
        elif c in (b'"`' if fmt == "caddy" else b"\"'") and (fmt == "haproxy" or starts):
            # HAProxy opens quotes anywhere; the others at the start of a token only.
            # Caddy's quotes are '"' and '`' (a "'" is a character there).
            self.state = {0x22: DQ, 0x27: SQ, 0x60: BQ}[c]
            self.quote = c
        elif c == 0x5C and fmt == "caddy" and starts and data[i + 1 : i + 2] in (b'"', b"`"):
            # Caddy opens a quote at a token's start even after an escape; in double
            # quotes the escape then takes the next character as it is.
            self.quote = data[i + 1]
            self.state, self.begin = (DQ if self.quote == 0x22 else BQ), i + 2
            self.pos = i + 2 if self.state == BQ else min(i + 3, len(data))
        elif c == 0x5C:  # backslash: escapes the next character (Apache: a character)
            self.pos = i + 1 if fmt == "apache" or self._line_ends(i + 1) else i + 2
        elif fmt == "caddy" and c == 0x3C and starts and (m := _regex(_HEREDOC).match(data, i)):
            self.marker, self.state, self.pos = m.group(1), HEREDOC, m.end()
            # Its text ends in the marker first where the marker first appears after
            # its first character (Caddy 2.7's lexer), on any line, mid-line too.
            found = data.find(self.marker, self.pos + 1)
            self.heredoc_end = found + len(self.marker) if found >= 0 else -1
        elif fmt == "nginx" and (c in b";{" or (c == 0x7D and starts)):
            # nginx ends a word at ';' and '{' only; '}' is a token at a token's start,
            # and inside a word ("a}#") just a character.
            self._statement_ends(c)
        elif c == 0x24 and data[i + 1 : i + 2] == b"{" and fmt in ("nginx", "haproxy"):
            self._dollar_brace(i)
        else:
            m = self.plain.match(data, i, max(limit, i + 1))
            self.pos = m.end() if m is not None else i + 1
        self.line_start = self.line_start_next or (self.line_start and c in b" \t")

    def _line_ends(self, i: int) -> bool:
        """HAProxy reads line by line: a backslash does not escape the end of one."""
        return self.fmt == "haproxy" and self.data[i : i + 1] in (b"\n", b"\r")

    def _token_begins(self, i: int) -> None:
        """A token begins at ``i``: count it (and see if it makes the line HAProxy's
        ``.if`` condition)."""
        self.words += 1
        self.begin = i + 1 if self.data[i] in b"\"'`" else i
        if self.statement:
            self.name_at, self.statement = i, False
        if self.fmt == "haproxy" and self.words == 1:
            self.cond = _regex(_COND_LINE).match(self.data, i) is not None
        elif self.fmt == "apache" and self.words == 1:
            self.define = _regex(_DEFINE_LINE).match(self.data, i) is not None

    def _caddy_blank(self, i: int) -> bool:
        """Caddy's own blanks, read here if at ``i``: a dropped CR, a backslash-newline
        (a line continued: a blank), a Unicode blank."""
        data = self.data
        if data[i] == 0x0D and data[i + 1 : i + 2] != b"\n":
            self.pos = i + 1  # dropped: the token goes on across it
            return True
        joined = self._continued(i)
        width = 0 if joined is None else joined - i
        if joined is None and data[i] >= 0x80:
            m = _regex(_UNICODE_BLANK).match(data, i)
            width = 0 if m is None else m.end() - i
        if not width:
            return False
        self.pos = i + width
        self.token_start = True
        return True

    def _dollar_brace(self, i: int) -> None:
        """``${`` in a word: nginx keeps every '{' after '$' in the word ("${{" too);
        HAProxy expands ``${NAME}`` or ``${NAME-default}`` there, quotes in the default
        included, up to the next '}'."""
        data = self.data
        if self.fmt == "nginx":
            self.pos = i + 2
            while data[self.pos : self.pos + 1] == b"{":
                self.pos += 1
            return
        end = data.find(b"}", i) if i < self.no_close else -1
        if end < 0:
            self.no_close = min(self.no_close, i)  # and none after: never search again
            self.pos = i + 1
        else:
            self.pos = end + 1

    def _quoted(self, c: int) -> None:
        i, fmt = self.pos, self.fmt
        if c == 0x5C:
            # A backslash escapes in double quotes, and in nginx's single quotes too;
            # in Apache's quotes it pairs only with the closing quote or a backslash.
            if fmt == "apache" and self.state in (DQ, SQ):
                pair = self.data[i + 1 : i + 2] in (bytes([self.quote]), b"\\")
                self.pos = i + 2 if pair else i + 1
                return
            if self.state == DQ or (self.state == SQ and fmt == "nginx"):
                self.pos = i + 1 if self._line_ends(i + 1) else i + 2
                return
        if c == self.quote:
            self.state = WORD
            self.pos = i + 1
            # Apache and Caddy begin the next word right after a closing quote.
            self.token_start = fmt in ("apache", "caddy")
            return
        if c == 0x24 and self.state == DQ and fmt == "haproxy" and self.data[i + 1 : i + 2] == b"{":
            self._dollar_brace(i)  # HAProxy expands ${NAME-default} in double quotes
            return
        if c == 0x0A and fmt in ("haproxy", "apache"):  # quotes end with the line
            self.state = WORD
            self.token_start = self.line_start = True
            self.words = 0
            self.cond = self.define = False
        self.pos = i + 1

    def _heredoc(self, limit: int) -> None:
        end = self.heredoc_end
        if end < 0 or end > limit:
            self.pos = max(limit, self.pos + 1)
            return
        # The token ends with the marker; the line goes on ("EOF 200": 200 is the
        # next argument).
        self.pos, self.state, self.token_start = max(end, self.pos), WORD, True
