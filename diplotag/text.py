"""French sentence splitting with exact character offsets into the text the user sent.

A tested rule set (no model): lines are units of their own; a wire dateline
("PÉKIN, 3 juin (Xinhua) --") is split off; a sentence ends at . ! ? … (with closing quotes)
followed by whitespace and an opening character, except after abbreviations (M., Mme,
av. J.-C., cf.), initials (V. Poutine), inside « … » quotes, and, in text with encoding
damage ("c?té"), at a "?" glued to a letter.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ABBREVIATIONS = frozenset("""
m mm mme mmes mlle mlles dr pr me mgr st ste cf etc. p pp art al av apr j.-c env hab vol éd ed fig chap ch
éq no n° nos réf ref ibid op sq gén gal col cdt lt sgt adj ss sm s.e s.m var dép tél bd vs ca ex
""".replace("etc.", "").split())
CLOSERS = "»\"”’)]'"
OPENERS = "«\"“‘([—–-"
ENDERS = ".!?…"
SPACE = re.compile(r"[\s\u00a0\u202f\u2007\u200b\ufeff]+")
DATELINE = re.compile(
    r"^\s*[A-ZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸ'’ .\-]{3,40}"  # PÉKIN / BRUXELLES / NEW DELHI
    r"(?:,[^\n]{1,40}?)?"  # , 3 juin
    r"(?:\s*\([^)\n]{1,40}\))?"  # (Xinhua)
    r"\s*(?:--|—|–|-)\s+"
)
DAMAGE = re.compile(r"\w\?\w")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def has_encoding_damage(text: str) -> bool:
    """True when a "?" stands inside a word (mis-decoded accents: "c?té", "Ale?nik")."""
    return DAMAGE.search(text) is not None


def clean_for_model(sentence: str) -> str:
    """What the model sees: NFC, control characters and odd spaces turned into plain spaces."""
    s = CONTROL.sub(" ", unicodedata.normalize("NFC", sentence))
    return SPACE.sub(" ", s).strip()


def _is_abbreviation(line: str, dot: int) -> bool:
    """Is the '.' at `dot` the end of an abbreviation or an initial?"""
    j = dot
    while j > 0 and (line[j - 1].isalpha() or line[j - 1] in ".-°"):
        j -= 1
    word = line[j:dot]
    if not word:
        return False
    low = word.lower()
    if low in ABBREVIATIONS or low.rstrip(".") in ABBREVIATIONS:
        return True
    core = word.replace(".", "").replace("-", "")
    if len(core) == 1 and core.isupper():  # initials: V. Poutine, J.-C.
        return True
    return bool(re.fullmatch(r"(?:[A-Za-z]\.-?)+[A-Za-z]", word))  # J.-C, U.S, a.m


def _boundaries(line: str, damaged: bool) -> list[int]:
    """End offsets (exclusive) of the sentences in one line."""
    out: list[int] = []
    depth = 0
    closes = line.count("»") + line.count("”")
    n = len(line)
    i = 0
    while i < n:
        ch = line[i]
        if ch in "«“":
            depth += 1 if closes > 0 else 0
        elif ch in "»”":
            depth = max(depth - 1, 0)
            closes -= 1
        if ch not in ENDERS:
            i += 1
            continue
        j = i
        while j < n and line[j] in ENDERS:
            j += 1
        k = j
        while k < n:
            if line[k] in CLOSERS:
                if line[k] in "»”":
                    depth = max(depth - 1, 0)
                    closes -= 1
                k += 1
                continue
            k2 = k
            while k2 < n and line[k2] in " \u00a0\u202f":
                k2 += 1
            if k2 > k and k2 < n and line[k2] in "»”":  # "possible. »": French space before the closer
                k = k2
                continue
            break
        end = k
        if k < n and not line[k].isspace() and line[k] not in "\u00a0\u202f":
            i = j
            continue  # "1.000", "c?té", "U.S." inside a token
        m = k
        while m < n and (line[m].isspace() or line[m] in "\u00a0\u202f"):
            m += 1
        if m >= n:
            i = k
            continue
        nxt = line[m]
        is_start = nxt.isupper() or nxt.isdigit() or nxt in OPENERS
        if ch == "." and j - i == 1 and _is_abbreviation(line, i):
            is_start = False
        if ch == "?" and damaged and i > 0 and line[i - 1].isalpha() and j - i == 1:
            is_start = False  # "s?curit? Le": a mis-decoded letter, not a question mark
        if ch == "?" and damaged and i > 0 and line[i - 1] == " " and j - i == 1 and not nxt.isdigit():
            is_start = False  # " ? " standing for "à"
        if is_start and depth == 0:
            out.append(end)
        i = k
    return out


def split_sentences(text: str) -> list[Span]:
    """Split an article into sentences; offsets index `text` exactly (text[s.start:s.end] == s.text)."""
    spans: list[Span] = []
    damaged = has_encoding_damage(text)
    pos = 0
    for raw_line in re.split(r"(\r\n|\r|\n|\u2028|\u2029)", text):
        if raw_line in ("\r\n", "\r", "\n", "\u2028", "\u2029"):
            pos += len(raw_line)
            continue
        line_start = pos
        pos += len(raw_line)
        cuts = []
        m = DATELINE.match(raw_line)
        if m and m.end() < len(raw_line) and any(c.isalpha() for c in raw_line[m.end():]):
            cuts.append(m.end())
        cuts += [c for c in _boundaries(raw_line, damaged) if not cuts or c > cuts[0]]
        prev = 0
        for c in cuts + [len(raw_line)]:
            _emit(spans, text, line_start + prev, line_start + c)
            prev = c
    return spans


def _emit(spans: list[Span], text: str, start: int, end: int) -> None:
    while start < end and (text[start].isspace() or CONTROL.match(text[start]) or text[start] in "\u200b\ufeff"):
        start += 1
    while end > start and (text[end - 1].isspace() or CONTROL.match(text[end - 1]) or text[end - 1] in "\u200b\ufeff"):
        end -= 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        spans.append(Span(start, end, text[start:end]))
