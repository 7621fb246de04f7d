"""`diplotag data check`: schema, duplicates within and across splits, lengths and coverage."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path

from diplotag.errors import DataFileError
from diplotag.model.schema import RHETORIC, STANCES, TOPICS
from diplotag.training.data import SPLITS, Row, read_jsonl, split_paths

JACCARD = 0.8
LEAK_JACCARD = 0.6  # the split rule: closer sentences must share a split, so none may cross into the wire test set
MAX_WORDS = 100
COVERAGE = {
    "sentences": 4000,
    "per_topic": 800,
    "multi_topic_share": 0.15,
    "no_topic": 1000,
    "hard_negatives": 350,
    "per_stance": 400,
    "per_rhetoric": 400,
}
WORD = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in WORD.findall(text))


def near_duplicates(items: list[tuple[str, frozenset[str]]], threshold: float = JACCARD) -> list[tuple[int, int, float]]:
    """Pairs (i, j, jaccard) with jaccard > threshold, by prefix filtering on rare tokens."""
    freq = Counter(t for _, toks in items for t in toks)
    ordered = [sorted(toks, key=lambda t: (freq[t], t)) for _, toks in items]
    index: dict[str, list[int]] = defaultdict(list)
    pairs = []
    for i, toks in enumerate(ordered):
        if not toks:
            continue
        prefix = len(toks) - ceil(threshold * len(toks)) + 1
        candidates: set[int] = set()
        for t in toks[:prefix]:
            candidates.update(index[t])
        a = items[i][1]
        for j in candidates:
            b = items[j][1]
            if min(len(a), len(b)) < threshold * max(len(a), len(b)):
                continue
            jac = len(a & b) / len(a | b)
            if jac > threshold:
                pairs.append((j, i, jac))
        for t in toks[:prefix]:
            index[t].append(i)
    return pairs


@dataclass
class CheckReport:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        cols = list(self.counts)
        keys = list(next(iter(self.counts.values()))) if self.counts else []
        lines = ["| count | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
        lines += [f"| {k} | " + " | ".join(str(self.counts[c].get(k, 0)) for c in cols) + " |" for k in keys]
        lines += self.notes
        if self.problems:
            lines += [f"FAILED: {len(self.problems)} problem(s)"] + self.problems
        else:
            lines.append("OK: all checks passed")
        return "\n".join(lines)


def count(rows: list[Row]) -> dict[str, int]:
    c: dict[str, int] = {"sentences": len(rows)}
    for t in TOPICS:
        c[f"topic:{t}"] = sum(t in r.topics for r in rows)
    c["no topic"] = sum(not r.topics for r in rows)
    c["hard negatives"] = sum(r.source == "authored-hard-negative" for r in rows)
    c["2+ topics"] = sum(len(r.topics) >= 2 for r in rows)
    for s in STANCES:
        c[f"stance:{s}"] = sum(r.stance == s for r in rows)
    for r_ in RHETORIC:
        c[f"rhetoric:{r_}"] = sum(r.rhetoric == r_ for r in rows)
    c["encoding damage"] = sum(r.source == "authored-damaged" for r in rows)
    return c


def check_rows(splits: dict[str, list[Row]], files: dict[str, Path], coverage: bool = True) -> CheckReport:
    report = CheckReport()
    everything: list[tuple[str, Row]] = [(s, r) for s in splits for r in splits[s]]
    for s, rows in splits.items():
        report.counts[s] = count(rows)
    report.counts["all"] = count([r for _, r in everything])

    seen_ids: dict[str, str] = {}
    for s, r in everything:
        where = f"{files[s]}:{r.line}"
        n_words = len(r.text.split())
        if n_words > MAX_WORDS:
            report.problems.append(f"{where}: over-long text ({n_words} words > {MAX_WORDS})")
        if r.id is None:
            report.problems.append(f"{where}: missing id")
        elif r.id in seen_ids:
            report.problems.append(f"{where}: duplicate id {r.id!r} (first at {seen_ids[r.id]})")
        else:
            seen_ids[r.id] = where

    exact: dict[str, str] = {}
    for s, r in everything:
        key = " ".join(r.text.lower().split())
        where = f"{files[s]}:{r.line}"
        if key in exact:
            report.problems.append(f"{where}: exact duplicate of {exact[key]}")
        else:
            exact[key] = where
    items = [(f"{files[s]}:{r.line}", tokens(r.text)) for s, r in everything]
    for i, j, jac in near_duplicates(items):
        report.problems.append(f"{items[j][0]}: near-duplicate of {items[i][0]} (token Jaccard {jac:.2f})")

    total = report.counts["all"]
    n = total["sentences"]
    report.notes.append("splits: " + ", ".join(f"{s} {len(splits[s]) / max(n, 1):.1%}" for s in splits))
    report.notes.append(f"2+ topics: {total['2+ topics'] / max(n, 1):.1%}; encoding damage: "
                        f"{total['encoding damage'] / max(n, 1):.1%}")
    if coverage:
        need = COVERAGE
        checks = [("sentences", n, need["sentences"]), ("no topic", total["no topic"], need["no_topic"]),
                  ("hard negatives", total["hard negatives"], need["hard_negatives"])]
        checks += [(f"topic:{t}", total[f"topic:{t}"], need["per_topic"]) for t in TOPICS]
        checks += [(f"stance:{s}", total[f"stance:{s}"], need["per_stance"]) for s in STANCES]
        checks += [(f"rhetoric:{r}", total[f"rhetoric:{r}"], need["per_rhetoric"]) for r in RHETORIC]
        for name, have, want in checks:
            if have < want:
                report.problems.append(f"coverage: {name} has {have}, needs at least {want}")
        share = total["2+ topics"] / max(n, 1)
        if share < need["multi_topic_share"]:
            report.problems.append(f"coverage: 2+ topics share {share:.1%} < {need['multi_topic_share']:.0%}")
    return report


def check_data_dir(data_dir: Path, coverage: bool = True) -> CheckReport:
    files = split_paths(data_dir)
    splits: dict[str, list[Row]] = {}
    problems: list[str] = []
    for s in SPLITS:
        try:
            splits[s] = read_jsonl(files[s])
        except DataFileError as exc:
            problems.extend(exc.problems)
    if problems:
        report = CheckReport(counts={"-": {"sentences": 0}})
        report.problems = problems
        return report
    report = check_rows(splits, files, coverage=coverage)
    wire = data_dir / "wire" / "articles.jsonl"
    if wire.is_file():
        report.problems.extend(wire_leaks(splits, files, wire))
    return report


def wire_leaks(splits: dict[str, list[Row]], files: dict[str, Path], wire: Path,
               threshold: float = LEAK_JACCARD) -> list[str]:
    """Sentences of the splits that nearly repeat a sentence of the held-out wire articles."""
    from diplotag.training.wire import article_rows

    held = article_rows(wire)
    ours = [(f"{files[s]}:{r.line}", tokens(r.text)) for s in splits for r in splits[s]]
    items = ours + [(f"{wire} ({r.id})", tokens(r.text)) for r in held]
    problems = []
    for i, j, jac in near_duplicates(items, threshold):
        if (i < len(ours)) != (j < len(ours)):
            a, b = (i, j) if i < len(ours) else (j, i)
            problems.append(f"{items[a][0]}: near-duplicate of the wire test sentence {items[b][0]} "
                            f"(token Jaccard {jac:.2f})")
    return problems

