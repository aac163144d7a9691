"""RE2 patterns (TensorFlow's regular expressions) run with Python's ``re``.

TensorFlow's ``tf.strings.regex_replace`` and ``regex_full_match`` use RE2. Python's
``re`` reads most RE2 patterns the same way; this module translates the few constructs
that differ and refuses, with an ``InvalidArgumentError`` as TensorFlow does, the Python
constructs RE2 rejects, so a pattern never silently means something else:

* translated: ``\\z`` (end of text) becomes ``\\Z``; ``$`` outside multi-line mode
  becomes ``\\Z`` (RE2's ``$`` never matches before a final newline, Python's does);
  ``(?<name>...)`` becomes ``(?P<name>...)``; ``\\Q...\\E`` literal text is escaped;
  ``\\x{10FFFF}`` becomes ``\\U0010FFFF``; POSIX classes (``[[:alpha:]]``) become their
  ASCII ranges; ``\\d``, ``\\w``, ``\\s``, ``\\b`` and their negations become RE2's ASCII
  sets (Python's are Unicode), while ``(?i)`` still folds all of Unicode, as in RE2.
* refused (RE2 has no such syntax): backreferences (``\\1``, ``(?P=name)``), lookahead
  and lookbehind, atomic groups, conditionals, comments, possessive quantifiers, the
  ``x``/``a``/``L``/``u`` flags, ``\\Z``, ``\\N{...}``.
* refused as not supported here (RE2 accepts them, ``re`` cannot express them):
  Unicode classes ``\\pL``/``\\p{Greek}``, the ungreedy flag ``(?U)``, ``\\C``.

Bytes that are not valid UTF-8 become lone surrogates (``surrogateescape``) that ``.``,
negated classes and ``\\D``, ``\\W``, ``\\S`` never match, as RE2 skips them.

Replacing follows RE2 too: an empty match right after a non-empty one is skipped (Python's
``re.sub`` replaces it: ``x*`` on ``"abxd"``).

A rewrite string (the replacement) uses RE2's syntax: ``\\0`` to ``\\9`` name groups and
``\\\\`` is a backslash; anything else after a backslash, or a group the pattern lacks,
is an ``InvalidArgumentError`` (TensorFlow logs an error and leaves the text unchanged).
"""

from __future__ import annotations

import functools
import re

from neuroflow.errors import InvalidArgumentError, UnimplementedError

_POSIX = {"alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
          "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
          "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ",
          "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f"}
_REFUSED_GROUPS = {"=": "lookahead", "!": "negative lookahead", "<=": "lookbehind",
                   "<!": "negative lookbehind", ">": "atomic groups", "#": "comments",
                   "(": "conditionals", "P=": "backreferences"}
_RE2_FLAGS = set("imsU-")
_INVALID = "\\udc80-\\udcff"  # the lone surrogates that stand for bytes that are not UTF-8
# RE2's Perl classes are ASCII (\s is [\t\n\f\r ], without \v), and the negated ones never
# match an invalid byte. Spelled out as sets: as class members (inside [...]), and whole.
_WORD = "0-9A-Za-z_"
_MEMBERS = {"d": "0-9", "w": _WORD, "s": "\\t\\n\\f\\r ",
            "D": "\\x00-/:-\\udc7f\\udd00-\\U0010ffff",
            "W": "\\x00-/:-@\\[-^`{-\\udc7f\\udd00-\\U0010ffff",
            "S": "\\x00-\\x08\\x0b\\x0e-\\x1f!-\\udc7f\\udd00-\\U0010ffff"}
_CLASSES = {"d": "[0-9]", "w": f"[{_WORD}]", "s": "[\\t\\n\\f\\r ]",
            "D": f"[^0-9{_INVALID}]", "W": f"[^{_WORD}{_INVALID}]",
            "S": f"[^\\t\\n\\f\\r {_INVALID}]",
            # Word boundaries between ASCII word characters and anything else.
            "b": f"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))",
            "B": f"(?:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))"}


def _invalid(pattern: str, op: str, problem: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"Invalid pattern: {pattern}, error: {problem}", op)


def _unsupported(pattern: str, op: str, what: str) -> UnimplementedError:
    return UnimplementedError(
        f"Pattern {pattern!r} uses {what}, which RE2 (TensorFlow) accepts but Python's re, "
        f"which neuroflow uses, cannot express. Rewrite the pattern without it (see "
        f"neuroflow/ops/regex.py for the supported syntax).", op)


def _has_flag(pattern: str, flag: str) -> bool:
    """Whether the pattern turns ``flag`` on with an inline flag group (``(?m)``)."""
    return any(flag in flags.split("-")[0]
               for flags in re.findall(r"\(\?([imsU-]+)[:)]", pattern))


@functools.lru_cache(maxsize=256)
def compile_re2(pattern: str, op: str) -> re.Pattern:
    """``pattern`` (RE2 syntax) as a compiled Python pattern with RE2's meaning."""
    translated = _translate(pattern, op)
    try:
        return re.compile(translated)
    except re.error as error:
        raise _invalid(pattern, op, str(error)) from None


def _translate(pattern: str, op: str) -> str:
    out: list[str] = []
    multiline, dotall = _has_flag(pattern, "m"), _has_flag(pattern, "s")
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            text, i = _escape(pattern, i, op, in_class=False)
            out.append(text)
        elif c == "[":
            text, i = _char_class(pattern, i, op)
            out.append(text)
        elif c == "(" and pattern.startswith("(?", i):
            text, i = _group(pattern, i, op)
            out.append(text)
        elif c == "$":
            out.append("$" if multiline else r"\Z")
            i += 1
        elif c == ".":
            # Bytes that are not UTF-8 arrive as lone surrogates; RE2's "." skips them.
            out.append(r"[^\udc80-\udcff]" if dotall else r"[^\n\udc80-\udcff]")
            i += 1
        elif c in "*+?}" and i + 1 < n and pattern[i + 1] == "+":
            raise _invalid(pattern, op, f"bad repetition operator: {c}+")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _escape(pattern: str, i: int, op: str, in_class: bool) -> tuple[str, int]:
    """The translation of the escape at ``pattern[i]`` (a backslash), and where it ends."""
    if i + 1 >= len(pattern):
        raise _invalid(pattern, op, "trailing \\")
    c = pattern[i + 1]
    if c in "123456789":
        raise _invalid(pattern, op, f"invalid escape sequence: \\{c} (RE2 has no "
                                    f"backreferences)")
    if c in "pP":
        raise _unsupported(pattern, op, "a Unicode class (\\p)")
    if c == "C":
        raise _unsupported(pattern, op, "\\C (any byte)")
    if c in "ZN":
        raise _invalid(pattern, op, f"invalid escape sequence: \\{c}")
    if c == "z" and not in_class:
        return r"\Z", i + 2
    if c in _CLASSES and not in_class:
        return _CLASSES[c], i + 2
    if c in _MEMBERS and in_class:
        return _MEMBERS[c], i + 2
    if c == "Q" and not in_class:
        end = pattern.find(r"\E", i + 2)
        stop = len(pattern) if end < 0 else end
        return re.escape(pattern[i + 2:stop]), stop if end < 0 else end + 2
    if c == "x" and pattern.startswith("{", i + 2):
        end = pattern.find("}", i + 3)
        if end < 0:
            raise _invalid(pattern, op, "missing } in \\x{...}")
        return "\\U%08x" % int(pattern[i + 3:end], 16), end + 1
    return pattern[i:i + 2], i + 2


def _char_class(pattern: str, i: int, op: str) -> tuple[str, int]:
    """The translation of the character class starting at ``pattern[i]`` (``[``)."""
    out = ["["]
    i += 1
    negated = pattern.startswith("^", i)
    if negated:
        out.append("^")
        i += 1
    if pattern.startswith("]", i):
        out.append(r"\]")
        i += 1
    while i < len(pattern):
        c = pattern[i]
        if c == "]":
            # Bytes that are not UTF-8 (lone surrogates here) match no class in RE2.
            return "".join(out) + (_INVALID if negated else "") + "]", i + 1
        if c == "\\":
            text, i = _escape(pattern, i, op, in_class=True)
            out.append(text)
            continue
        if c == "[" and pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            name = pattern[i + 2:end] if end > 0 else ""
            if name not in _POSIX:
                raise _invalid(pattern, op, f"invalid character class range: [:{name}:]")
            out.append(_POSIX[name])
            i = end + 2
            continue
        # Python reads these as (future) set operations or nested sets: escape them.
        out.append("\\" + c if c in "[&~|" or (c == "-" and pattern[i - 1] == "-") else c)
        i += 1
    raise _invalid(pattern, op, "missing ]")


def _group(pattern: str, i: int, op: str) -> tuple[str, int]:
    """The translation of the opening of a ``(?...`` group at ``pattern[i]``."""
    rest = pattern[i + 2:]
    for start, what in _REFUSED_GROUPS.items():
        if rest.startswith(start):
            raise _invalid(pattern, op, f"invalid perl operator: (?{start} ({what} are not "
                                        f"RE2 syntax)")
    if rest.startswith("<"):
        return "(?P<", i + 3
    if rest.startswith(("P<", ":")):
        return pattern[i:i + 3], i + 3
    flags = re.match(r"[A-Za-z-]*", rest).group()
    if not flags or not set(flags) <= _RE2_FLAGS:
        raise _invalid(pattern, op, f"invalid or unsupported Perl syntax: (?{flags}")
    if "U" in flags:
        raise _unsupported(pattern, op, "the ungreedy flag (?U)")
    return pattern[i:i + 2 + len(flags)], i + 2 + len(flags)


@functools.lru_cache(maxsize=256)
def compile_rewrite(rewrite: str, groups: int, op: str):
    """RE2's rewrite string as a function of a match (for ``re.sub``)."""
    parts: list = []
    text: list[str] = []
    i = 0
    while i < len(rewrite):
        c = rewrite[i]
        if c != "\\":
            text.append(c)
            i += 1
            continue
        nxt = rewrite[i + 1] if i + 1 < len(rewrite) else ""
        if nxt == "\\":
            text.append("\\")
        elif nxt.isdigit() and nxt.isascii():
            if int(nxt) > groups:
                raise InvalidArgumentError(
                    f"invalid rewrite pattern: {rewrite} (\\{nxt} names a group the pattern, "
                    f"with {groups} group(s), lacks)", op)
            parts.append("".join(text))
            text = []
            parts.append(int(nxt))
        else:
            raise InvalidArgumentError(
                f"invalid rewrite pattern: {rewrite} (a backslash must be followed by a digit "
                f"0-9 naming a group, or by another backslash)", op)
        i += 2
    parts.append("".join(text))
    # Always a function: re.sub would read the backslashes of a plain replacement string.
    return lambda match: "".join(p if type(p) is str else (match.group(p) or "")
                                 for p in parts)


def substitute(compiled: re.Pattern, replace, text: str, count: int = 0) -> str:
    """``compiled.sub(replace, text, count)`` with RE2's rule for empty matches: none is
    taken where the previous, non-empty match ended."""
    parts: list[str] = []
    last, after_match, done = 0, -1, 0
    for match in compiled.finditer(text):
        start, end = match.span()
        if start == end == after_match:
            continue
        parts += [text[last:start], replace(match)]
        last, after_match, done = end, end if end > start else -1, done + 1
        if done == count:
            break
    parts.append(text[last:])
    return "".join(parts)
