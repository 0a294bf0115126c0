"""The tokenizer: numbers, quoted strings with SpEL/Java escapes, names and operators."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ostiary.domain.authz.expressions.context import refuse


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "number", "string", "name", "op", "end"
    value: object
    position: int


_TWO_CHAR_OPERATORS = frozenset({"==", "!=", "<=", ">=", "&&", "||"})
_ONE_CHAR_OPERATORS = frozenset("+-<>!(){},.?:")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_SIMPLE_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "r": "\r", "t": "\t"}


def _read_string(source: str, start: int) -> tuple[str, int]:
    quote = source[start]
    chars: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == quote:
            if source.startswith(quote, i + 1):
                chars.append(quote)
                i += 2
                continue
            return "".join(chars), i + 1
        if char == "\\" and i + 1 < len(source):
            following = source[i + 1]
            if following in _SIMPLE_ESCAPES:
                chars.append(_SIMPLE_ESCAPES[following])
                i += 2
                continue
            if following == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", source[i + 2 : i + 6]):
                chars.append(chr(int(source[i + 2 : i + 6], 16)))
                i += 6
                continue
        chars.append(char)
        i += 1
    raise refuse("Unterminated string literal", start)


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char.isspace():
            i += 1
        elif char in "'\"":
            text, end = _read_string(source, i)
            tokens.append(Token("string", text, i))
            i = end
        elif number := _NUMBER.match(source, i):
            end = number.end()
            if end < len(source) and (source[end].isalnum() or source[end] in "_$"):
                raise refuse("Malformed number", i)
            text = number.group()
            tokens.append(Token("number", float(text) if "." in text else int(text), i))
            i = end
        elif name := _NAME.match(source, i):
            tokens.append(Token("name", name.group(), i))
            i = name.end()
        elif source[i : i + 2] in _TWO_CHAR_OPERATORS:
            tokens.append(Token("op", source[i : i + 2], i))
            i += 2
        elif char in _ONE_CHAR_OPERATORS:
            tokens.append(Token("op", char, i))
            i += 1
        elif char == "=":
            raise refuse("Unexpected '=' (use '==' to compare)", i)
        else:
            raise refuse(f"Unexpected character {char!r}", i)
    tokens.append(Token("end", None, len(source)))
    return tokens
