"""Junos configuration, curly (`show configuration`) or `set` form, into one flat statement list.

Both forms become the same thing: the list of `set` paths the configuration stands for, each
with the file and line it came from. `[ a b ]` lists expand into one statement per element,
`inactive:` / `deactivate` drop the subtree (kept aside in `inactive`), `delete` removes it.
The model layer reads the statements with `match()`; it never sees which form the file used.

Parsing is linear in the file and bounded: blocks nest at most MAX_DEPTH deep, one line's `[ ]`
lists expand to at most MAX_EXPANSION statements, a file holds at most MAX_STATEMENTS.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Iterator

from ..errors import ConfigError, Source
from .statements import ParsedConfig, Statement, StatementList, read_config

SET_COMMANDS = {"set", "delete", "deactivate", "activate", "edit", "exit", "up", "top"}
# Containers that mean something by being there: a `delete` under one leaves it (see StatementList).
PRESENCE = (("then", "permit"), ("dead-peer-detection",))
MAX_DEPTH = 64  # real configs nest about 8 deep
MAX_EXPANSION = 10_000  # statements one line's `[ ]` lists may stand for
MAX_WORDS = 256  # words in one statement's path: `edit` and blocks make paths, real ones have ~15

# One token per match; whitespace and comments are matched only to count their newlines.
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<block>/\*.*?\*/)
  | (?P<open_block>/\*)
  | (?P<punct>[{};\[\]])
  | (?P<quoted>"(?:\\.|[^"\\])*")
  | (?P<open_quote>")
  | (?P<word>[^\s{};\[\]"]+)
""", re.VERBOSE | re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class _Tok:
    text: str
    kind: str  # "word" (quoted or not) or one of { } ; [ ]
    line: int


def _tokenize(text: str, file: str) -> Iterator[_Tok]:
    """Tokens one at a time (a huge file of `;` never sits in memory as a token list)."""
    line = 1
    for m in _TOKEN.finditer(text):
        kind, value = m.lastgroup, m.group()
        if kind == "punct":
            yield _Tok(value, value, line)
        elif kind == "word":
            yield _Tok(value, "word", line)
        elif kind == "quoted":
            yield _Tok(_ESCAPE.sub(r"\1", value[1:-1]), "word", line)
        elif kind == "open_block":
            raise ConfigError("unclosed comment '/*'", Source(file, line))
        elif kind == "open_quote":
            raise ConfigError("unclosed quoted string", Source(file, line))
        line += value.count("\n")


def _check_path(path: tuple[str, ...], src: Source) -> tuple[str, ...]:
    if len(path) > MAX_WORDS:
        raise ConfigError(f"a configuration path of {len(path)} words (at most {MAX_WORDS})", src)
    return path


def _expand_lists(words: list[object], src: Source) -> list[tuple[str, ...]]:
    """`a [ b c ] d` -> (a b d), (a c d); refused beyond MAX_EXPANSION statements."""
    _check_path(tuple(words), src)  # type: ignore[arg-type]  # before the product multiplies it
    count = prod(len(w) for w in words if isinstance(w, list))
    if count > MAX_EXPANSION:
        raise ConfigError(f"the '[ ]' lists stand for {count} statements (at most {MAX_EXPANSION})", src)
    out: list[tuple[str, ...]] = [()]
    for w in words:
        alts = w if isinstance(w, list) else [w]
        out = [o + (a,) for o in out for a in alts]
    return out


class _Builder:
    """Collects statements and applies delete/deactivate/activate in file order."""

    def __init__(self, file: str):
        self.file = file
        self.statements = StatementList(file, presence=PRESENCE)
        self.seen: set[Statement] = set()  # a `[ a a ]` list or an empty container adds one statement once
        self.inactive_prefixes: dict[tuple[str, ...], Source] = {}

    def set(self, words: tuple[str, ...], src: Source) -> None:
        st = Statement(_check_path(words, src), src)
        if st not in self.seen:
            self.seen.add(st)
            self.statements.add(st)

    def delete(self, prefix: tuple[str, ...]) -> None:
        self.statements.delete(prefix)

    def result(self) -> ParsedConfig:
        active, inactive = [], []
        for st in self.statements.live():
            dead = any(st.words[:k] in self.inactive_prefixes for k in range(1, len(st.words) + 1))
            (inactive if dead else active).append(st)
        return ParsedConfig(self.file, active, inactive)


@dataclass
class _Block:
    """An open `{`: its path, the token, where its statement starts, statements before it."""

    path: tuple[str, ...]
    open: _Tok
    source: Source
    before: int


class _Tokens:
    """A token stream with one token of look-ahead."""

    def __init__(self, toks: Iterator[_Tok]):
        self._it = toks
        self._next = next(self._it, None)

    def peek(self) -> _Tok | None:
        return self._next

    def take(self) -> _Tok | None:
        tok, self._next = self._next, next(self._it, None)
        return tok


def _statement_words(toks: _Tokens, src) -> list[object]:
    """Words (and `[ ]` lists, as lists) up to the token that ends the statement."""
    words: list[object] = []
    first = toks.peek()
    while (tok := toks.peek()) is not None and tok.kind in ("word", "["):
        toks.take()
        if tok.kind == "word":
            words.append(tok.text)
            continue
        items = []
        while (item := toks.peek()) is not None and item.kind == "word":
            items.append(toks.take().text)  # type: ignore[union-attr]
        if item is None or item.kind != "]":
            raise ConfigError("unclosed '[' list", src(first))
        toks.take()
        words.append(items)
    return words


def _parse_curly(tokens: Iterator[_Tok], file: str) -> ParsedConfig:
    """Iterative (an explicit stack of open blocks): nesting depth costs no Python recursion."""
    b = _Builder(file)
    toks = _Tokens(tokens)
    stack: list[_Block] = []

    def src(tok: _Tok) -> Source:
        return Source(file, tok.line)

    while (tok := toks.peek()) is not None:
        path = stack[-1].path if stack else ()
        if tok.kind == "}":
            toks.take()
            if not stack:
                raise ConfigError("'}' without a matching '{'", src(tok))
            blk = stack.pop()
            if len(b.statements) == blk.before:  # an empty container is a statement of its own
                b.set(blk.path, blk.source)
            continue
        inactive = tok.kind == "word" and tok.text == "inactive:"
        if tok.kind == "word" and tok.text in ("inactive:", "protect:"):
            toks.take()
        first = toks.peek() or tok
        words = _statement_words(toks, src)
        if not words:
            raise ConfigError(f"unexpected '{first.text}'", src(first))
        shown = " ".join(" ".join(w) if isinstance(w, list) else w for w in words)
        end = toks.take()
        if end is None:
            raise ConfigError(f"statement '{shown}' has no ';' or '{{'", src(first))
        full = [path + w for w in _expand_lists(words, src(first))]
        if inactive:
            for p in full:
                b.inactive_prefixes[p] = src(first)
        if end.kind == ";":
            for p in full:
                b.set(p, src(first))
        elif end.kind == "{":
            if len(full) != 1:
                raise ConfigError("a '[ ]' list cannot open a block", src(first))
            if len(stack) >= MAX_DEPTH:
                raise ConfigError(f"blocks nested more than {MAX_DEPTH} deep", src(end))
            stack.append(_Block(_check_path(full[0], src(first)), end, src(first), len(b.statements)))
        else:
            raise ConfigError(f"expected ';' or '{{' after '{shown}', found '{end.text}'", src(end))
    if stack:
        raise ConfigError("unclosed '{' (missing '}')", src(stack[-1].open))
    return b.result()


def _split_set_line(line: str, src: Source) -> list[object]:
    """Words of one set-form line (quotes and `[ ]` lists honoured, `#` comments dropped)."""
    toks = list(_tokenize(line, src.file))
    words: list[object] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "[":
            items = []
            i += 1
            while i < len(toks) and toks[i].kind == "word":
                items.append(toks[i].text)
                i += 1
            if i >= len(toks) or toks[i].kind != "]":
                raise ConfigError("unclosed '[' list", src)
            words.append(items)
        elif t.kind == "word":
            words.append(t.text)
        else:
            raise ConfigError(f"unexpected '{t.text}' in a set command", src)
        i += 1
    return words


def _parse_set(text: str, file: str) -> ParsedConfig:
    b = _Builder(file)
    stack: list[tuple[str, ...]] = [()]  # edit levels; `exit` returns to the previous one
    for lineno, raw in enumerate(text.splitlines(), 1):
        src = Source(file, lineno)
        try:
            words = _split_set_line(raw, src)
        except ConfigError as e:
            raise ConfigError(e.problems[0][1], src) from None
        if not words:
            continue
        cmd, args = words[0], words[1:]
        if cmd not in SET_COMMANDS:
            raise ConfigError(f"unknown command '{cmd}' (expected one of: {', '.join(sorted(SET_COMMANDS))})", src)
        if cmd in ("exit", "up"):
            if len(stack) > 1:
                stack.pop()
            continue
        if cmd == "top":
            del stack[1:]
            continue
        level = stack[-1]
        paths = [level + p for p in _expand_lists(args, src)]
        if not args and cmd != "edit":
            raise ConfigError(f"'{cmd}' needs a configuration path", src)
        for p in paths:
            if cmd == "set":
                b.set(p, src)
            elif cmd == "delete":
                b.delete(p)
            elif cmd == "deactivate":
                b.inactive_prefixes[p] = src
            elif cmd == "activate":
                b.inactive_prefixes.pop(p, None)
        if cmd == "edit":
            if len(paths) != 1:
                raise ConfigError("'edit' takes one path", src)
            stack.append(_check_path(paths[0], src))
    return b.result()


def is_set_form(text: str) -> bool:
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and not line.startswith("/*"):
            return line.split()[0] in SET_COMMANDS
    return False


def parse_junos(text: str, file: str) -> ParsedConfig:
    """Parse a Junos configuration in either form; ConfigError names file:line."""
    if is_set_form(text):
        return _parse_set(text, file)
    return _parse_curly(_tokenize(text, file), file)


def load_junos(path: Path | str, display_name: str | None = None) -> ParsedConfig:
    return parse_junos(read_config(path), display_name or str(path))
