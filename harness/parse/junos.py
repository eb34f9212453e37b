"""Junos configuration, curly (`show configuration`) or `set` form, into one flat statement list.

Both forms become the same thing: the list of `set` paths the configuration stands for, each
with the file and line it came from. `[ a b ]` lists expand into one statement per element,
`inactive:` / `deactivate` drop the subtree (kept aside in `inactive`), `delete` removes it.
The model layer reads the statements with `match()`; it never sees which form the file used.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, Source
from .statements import ParsedConfig, Statement, read_config

SET_COMMANDS = {"set", "delete", "deactivate", "activate", "edit", "exit", "up", "top"}


@dataclass(frozen=True)
class _Tok:
    text: str
    kind: str  # "word" (quoted or not) or one of { } ; [ ]
    line: int


def _tokenize(text: str, file: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":  # comment to end of line, including "## SECRET-DATA"
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ConfigError("unclosed comment '/*'", Source(file, line))
            line += text.count("\n", i, end)
            i = end + 2
        elif c in "{};[]":
            toks.append(_Tok(c, c, line))
            i += 1
        elif c == '"':
            start_line, j, buf = line, i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                if text[j] == "\n":
                    line += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise ConfigError("unclosed quoted string", Source(file, start_line))
            toks.append(_Tok("".join(buf), "word", start_line))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '{};[]"':
                j += 1
            toks.append(_Tok(text[i:j], "word", line))
            i = j
    return toks


def _expand_lists(words: list[object]) -> list[tuple[str, ...]]:
    """`a [ b c ] d` -> (a b d), (a c d)."""
    out: list[tuple[str, ...]] = [()]
    for w in words:
        alts = w if isinstance(w, list) else [w]
        out = [o + (a,) for o in out for a in alts]
    return out


class _Builder:
    """Collects statements and applies delete/deactivate/activate in file order."""

    def __init__(self, file: str):
        self.file = file
        self.statements: list[Statement] = []
        self.inactive_prefixes: dict[tuple[str, ...], Source] = {}

    def set(self, words: tuple[str, ...], src: Source) -> None:
        st = Statement(words, src)
        if st not in self.statements:
            self.statements.append(st)

    def delete(self, prefix: tuple[str, ...]) -> None:
        self.statements = [s for s in self.statements if s.words[: len(prefix)] != prefix]

    def result(self) -> ParsedConfig:
        active, inactive = [], []
        for st in self.statements:
            dead = any(st.words[: len(p)] == p for p in self.inactive_prefixes)
            (inactive if dead else active).append(st)
        return ParsedConfig(self.file, active, inactive)


def _parse_curly(toks: list[_Tok], file: str) -> ParsedConfig:
    b = _Builder(file)
    pos = 0

    def src(tok: _Tok) -> Source:
        return Source(file, tok.line)

    def block(path: tuple[str, ...], closing: _Tok | None) -> None:
        nonlocal pos
        while pos < len(toks):
            tok = toks[pos]
            if tok.kind == "}":
                if closing is None:
                    raise ConfigError("'}' without a matching '{'", src(tok))
                pos += 1
                return
            inactive = False
            if tok.kind == "word" and tok.text in ("inactive:", "protect:"):
                inactive = tok.text == "inactive:"
                pos += 1
            words: list[object] = []
            first = toks[pos] if pos < len(toks) else tok
            while pos < len(toks) and toks[pos].kind in ("word", "["):
                if toks[pos].kind == "[":
                    items, pos = [], pos + 1
                    while pos < len(toks) and toks[pos].kind == "word":
                        items.append(toks[pos].text)
                        pos += 1
                    if pos >= len(toks) or toks[pos].kind != "]":
                        raise ConfigError("unclosed '[' list", src(first))
                    words.append(items)
                else:
                    words.append(toks[pos].text)
                pos += 1
            if not words:
                raise ConfigError(f"unexpected '{first.text}'", src(first))
            if pos >= len(toks):
                raise ConfigError(f"statement '{' '.join(map(str, words))}' has no ';' or '{{'", src(first))
            end = toks[pos]
            full = [path + w for w in _expand_lists(words)]
            if inactive:
                for p in full:
                    b.inactive_prefixes[p] = src(first)
            if end.kind == ";":
                pos += 1
                for p in full:
                    b.set(p, src(first))
            elif end.kind == "{":
                if len(full) != 1:
                    raise ConfigError("a '[ ]' list cannot open a block", src(first))
                pos += 1
                before = len(b.statements)
                block(full[0], end)
                if len(b.statements) == before:  # an empty container is a statement of its own
                    b.set(full[0], src(first))
            else:
                raise ConfigError(f"expected ';' or '{{' after '{' '.join(map(str, words))}', found '{end.text}'", src(end))
        if closing is not None:
            raise ConfigError("unclosed '{' (missing '}')", src(closing))

    block((), None)
    return b.result()


def _split_set_line(line: str, src: Source) -> list[object]:
    """Words of one set-form line (quotes and `[ ]` lists honoured, `#` comments dropped)."""
    toks = _tokenize(line, src.file)
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
        paths = [level + p for p in _expand_lists(args)]
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
            stack.append(paths[0])
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
