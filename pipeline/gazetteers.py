"""Build the threat-actor and agency gazetteers from MISP galaxy clusters.

Run ``python -m pipeline.gazetteers --misp ../shared/data/misp-galaxy --out corpora/gazetteers``.
The pipeline loads the compact TSV tables this writes, never the raw JSON.

Threat actors: every cluster of ``threat-actor.json`` is one actor (an "anchor"); a Microsoft
activity group or MITRE intrusion set joins the anchor it shares the most names with, so
APT31, ZIRCONIUM, Judgment Panda and Violet Typhoon end up as one row. Synonyms are not
merged transitively: loose synonym lists would otherwise chain APT28 and APT29 together.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

LOGGER = logging.getLogger(__name__)

ANCHOR_FILE = "threat-actor.json"
JOINING_FILES = ("microsoft-activity-group.json", "mitre-intrusion-set.json")
AGENCY_FILE = "intelligence-agencies.json"
LICENCE = "CC0-1.0 or BSD-2-Clause (MISP galaxy, dual-licensed; see LICENSE.md beside the source)"

# Zipf frequency (wordfreq, English) at or above which a one-word alias reads as an ordinary word.
COMMON_WORD_ZIPF = 3.0
MIN_ALIAS_CHARS = 3
# One-word names that are common words yet in news nearly always mean the group.
KEEP_DESPITE_COMMON = frozenset({"lazarus"})
# Agency names that are job descriptions rather than names in running text.
GENERIC_AGENCY_NAMES = frozenset({
    "border guard", "counter terrorism group", "intelligence branch", "intelligence directorate",
    "intelligence division", "military intelligence", "military intelligence department",
    "news division", "security service", "special branch", "special branch bureau",
    "internal security service", "security intelligence agency", "security and intelligence agency",
    "security and intelligence division", "signals intelligence agency",
    "director of national intelligence", "criminal investigations department",
    "special detective unit", "federal police department", "directorate of air intelligence",
    "department of naval intelligence", "intelligence bureau", "crime intelligence", "e division",
    "information branch", "bureau of intelligence",
})
# Actor names that are everyday phrases (checked case-insensitively, as the matcher also tries
# the title-case form of all-caps names); found by reading the multi-word aliases made of frequent words.
EVERYDAY_PHRASES = frozenset({
    "animal farm", "bad magic", "black shadow", "brown fox", "cold river", "dark castle", "dark engine",
    "dark hotel", "deputy dog", "double dragon", "dust storm", "evil eye", "ghost stadium", "gold garden",
    "gold village", "gold winter", "golden eye dog", "iron group", "iron hunter", "iron liberty",
    "island castle", "lucky cat", "night dragon", "red eyes", "red wolf", "river castle", "saint bear",
    "shadow network", "shore castle", "silence group", "silver fox", "social network team",
    "spring dragon", "storm cloud", "team bear", "the big bang", "the mask", "the white company",
    "ugly face", "underground team", "white bear", "conference castle", "anger bear", "white giant",
})
# MISP keeps these as separate clusters although governments and vendors name them as one actor.
SAME_ACTOR = (("APT29", "UNC2452"),)

FOOTNOTE = re.compile(r"\[\d+\]")
NOT_A_PAGE = re.compile(r"\s*\(page does not exist\)", re.IGNORECASE)
LANGUAGE_PREFIX = re.compile(r"^[a-z]{2}:(?=\S)")
MITRE_ID_SUFFIX = re.compile(r"\s+-\s+G\d{4}$")
PARENTHESISED = re.compile(r"\s*\(([^()]*)\)")
ACRONYM = re.compile(r"^[A-Z][A-Z0-9&/ -]{1,14}$")
DASH_SPLIT = re.compile(r"\s+[–-]\s+")


@dataclass
class GalaxyEntry:
    """One cluster from one galaxy file."""

    source: str
    name: str
    synonyms: list[str]
    country: str | None


@dataclass
class GazetteerRow:
    """One canonical entity of a gazetteer table."""

    canonical: str
    label: str
    country: str | None
    aliases: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def canonical_id(self) -> str:
        """Stable id made from the canonical name."""
        prefix = "threat-actor" if self.label == "THREAT_ACTOR" else "org"
        return f"{prefix}:{slugify(self.canonical)}"


def slugify(name: str) -> str:
    """Lower-case ASCII slug: "Violet Typhoon" -> "violet-typhoon"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def alias_key(name: str) -> str:
    """Comparison key that ignores case, spaces and punctuation: "APT 31" == "apt31"."""
    return re.sub(r"\W+", "", name.casefold())


def read_galaxy(path: Path) -> list[GalaxyEntry]:
    """Read one MISP galaxy cluster file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = []
    for value in data["values"]:
        meta = value.get("meta", {})
        name = MITRE_ID_SUFFIX.sub("", value["value"]).strip()
        synonyms = [s.strip() for s in meta.get("synonyms", []) if s.strip()]
        entries.append(GalaxyEntry(path.stem, name, synonyms, meta.get("country")))
    return entries


def merge_actor_entries(anchors: list[GalaxyEntry], joiners: list[GalaxyEntry]) -> list[GazetteerRow]:
    """Attach each joining entry to the anchor group it shares most names with; anchors never merge."""
    anchor_keys = [{alias_key(n) for n in [a.name, *a.synonyms]} for a in anchors]
    by_key: dict[str, set[int]] = defaultdict(set)
    for index, keys in enumerate(anchor_keys):
        for key in keys:
            by_key[key].add(index)
    groups: list[list[GalaxyEntry]] = [[a] for a in anchors]
    index_of = {a.name: i for i, a in enumerate(anchors)}
    for keeper, merged in SAME_ACTOR:
        if keeper not in index_of or merged not in index_of:
            continue
        groups[index_of[keeper]].extend(groups[index_of[merged]])
        groups[index_of[merged]] = []
    for entry in joiners:
        best = best_anchor(entry, anchors, anchor_keys, by_key)
        if best is None:
            groups.append([entry])
            continue
        groups[best].append(entry)
        # A later MITRE set may know the group only by its Microsoft name.
        for key in {alias_key(n) for n in [entry.name, *entry.synonyms]}:
            anchor_keys[best].add(key)
            by_key[key].add(best)
    return [row_from_actor_group(group) for group in groups if group]


def best_anchor(entry: GalaxyEntry, anchors: list[GalaxyEntry], anchor_keys: list[set[str]],
                by_key: dict[str, set[int]]) -> int | None:
    """Index of the anchor sharing most names with entry (names count double), None on a tie."""
    keys = {alias_key(n) for n in [entry.name, *entry.synonyms]}
    scores: Counter[int] = Counter()
    for key in keys:
        for index in by_key.get(key, ()):
            scores[index] += 1
    for index in list(scores):
        if alias_key(anchors[index].name) in keys:
            scores[index] += 2
        if alias_key(entry.name) in anchor_keys[index]:
            scores[index] += 2
    ranked = scores.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def row_from_actor_group(group: list[GalaxyEntry]) -> GazetteerRow:
    """One threat-actor row: the first entry names it, the majority country wins."""
    countries = Counter(e.country for e in group if e.country)
    aliases = [n for e in group for n in [e.name, *e.synonyms]]
    return GazetteerRow(
        canonical=group[0].name,
        label="THREAT_ACTOR",
        country=countries.most_common(1)[0][0] if countries else None,
        aliases=unique_by_text(aliases),
        sources=sorted({e.source for e in group}),
    )


def agency_rows(entries: list[GalaxyEntry]) -> list[GazetteerRow]:
    """Agency rows with footnotes, wiki notes and native-language tails split into aliases."""
    rows = []
    for entry in entries:
        canonical, aliases = split_agency_name(entry.name)
        rows.append(GazetteerRow(
            canonical=canonical,
            label="AGENCY",
            country=entry.country,
            aliases=unique_by_text([*aliases, *(clean_text(s) for s in entry.synonyms)]),
            sources=[entry.source],
        ))
    return rows


def clean_text(text: str) -> str:
    """Remove footnote marks, wiki notes and language prefixes; squeeze spaces."""
    text = NOT_A_PAGE.sub("", FOOTNOTE.sub("", text))
    text = LANGUAGE_PREFIX.sub("", text)
    return re.sub(r"\s+", " ", text).strip(" ,")


def split_agency_name(raw: str) -> tuple[str, list[str]]:
    """Canonical name plus aliases: "X (NCSC) – native" -> ("X", ["X", "NCSC", "native"]).

    An English tail after a dash is a parent body or a section ("- Ministry of Interior"), not a name.
    """
    text = clean_text(raw)
    acronyms = [m for m in PARENTHESISED.findall(text) if ACRONYM.match(m.strip())]
    parts = DASH_SPLIT.split(text)
    main = parts[0]
    without_acronyms = PARENTHESISED.sub(
        lambda m: "" if ACRONYM.match(m.group(1).strip()) else m.group(0), main).strip()
    canonical = re.sub(r"^The\s+", "", without_acronyms)
    native_names = [p.strip() for p in parts[1:] if not p.isascii()]
    aliases = [canonical, *(a.strip() for a in acronyms), *native_names]
    return canonical, [a for a in aliases if a]


def unique_by_text(names: Iterable[str]) -> list[str]:
    """Names in first-seen order, exact duplicates removed."""
    return list(dict.fromkeys(n for n in names if n))


def alias_drop_reason(alias: str, label: str, is_common_word: Callable[[str], bool]) -> str | None:
    """Why an alias would cause false positives in news text, or None to keep it."""
    stripped = alias.strip()
    if len(stripped) < MIN_ALIAS_CHARS:
        return "too short"
    if re.fullmatch(r"[\d\W_]+", stripped):
        return "number or punctuation only"
    if re.fullmatch(r"G\d{4}", stripped):
        return "ATT&CK group id, not a name used in news"
    if stripped.isalpha() and stripped.casefold() not in KEEP_DESPITE_COMMON and is_common_word(stripped):
        return "common English word"
    if stripped.casefold() in EVERYDAY_PHRASES:
        return "everyday phrase"
    if label == "AGENCY" and stripped.casefold() in GENERIC_AGENCY_NAMES:
        return "generic agency description"
    if label == "AGENCY" and PARENTHESISED.search(stripped):
        return "Wikipedia disambiguation kept only in the canonical name"
    return None


def filter_aliases(rows: list[GazetteerRow], is_common_word: Callable[[str], bool]) -> list[tuple[str, str, str]]:
    """Drop risky and ambiguous aliases in place; return (canonical_id, alias, reason) for each drop."""
    dropped = []
    for row in rows:
        kept = []
        for alias in row.aliases:
            reason = alias_drop_reason(alias, row.label, is_common_word)
            if reason:
                dropped.append((row.canonical_id, alias, reason))
            else:
                kept.append(alias)
        row.aliases = kept
    dropped.extend(drop_ambiguous_aliases(rows))
    return dropped


def drop_ambiguous_aliases(rows: list[GazetteerRow]) -> list[tuple[str, str, str]]:
    """An alias shared by several rows stays with the row it names, else the largest row, else none."""
    owners: dict[str, list[GazetteerRow]] = defaultdict(list)
    for row in rows:
        for key in {alias_key(a) for a in row.aliases}:
            owners[key].append(row)
    dropped = []
    for key, sharing in owners.items():
        if len(sharing) < 2:
            continue
        keeper = alias_keeper(key, sharing)
        for row in sharing:
            if row is keeper:
                continue
            lost = [a for a in row.aliases if alias_key(a) == key]
            row.aliases = [a for a in row.aliases if alias_key(a) != key]
            others = ", ".join(r.canonical_id for r in sharing if r is not row)
            dropped.extend((row.canonical_id, a, f"ambiguous: also names {others}") for a in lost)
    return dropped


def alias_keeper(key: str, sharing: list[GazetteerRow]) -> GazetteerRow | None:
    """The row that keeps a shared alias: the one it names, else the one with most sources and aliases."""
    naming = [r for r in sharing if alias_key(r.canonical) == key]
    if naming:
        return naming[0] if len(naming) == 1 else None
    ranked = sorted(sharing, key=lambda r: (len(r.sources), len(r.aliases)), reverse=True)
    top, second = ranked[0], ranked[1]
    if (len(top.sources), len(top.aliases)) == (len(second.sources), len(second.aliases)):
        return None
    return top


def wordfreq_common_word(word: str) -> bool:
    """True when word is frequent in English (wordfreq, needed only to build the tables)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= COMMON_WORD_ZIPF


def build_tables(misp_dir: Path, is_common_word: Callable[[str], bool] = wordfreq_common_word
                 ) -> tuple[list[GazetteerRow], list[GazetteerRow], list[tuple[str, str, str]]]:
    """Threat-actor rows, agency rows and the dropped aliases from a MISP galaxy folder."""
    anchors = read_galaxy(misp_dir / ANCHOR_FILE)
    joiners = [e for name in JOINING_FILES for e in read_galaxy(misp_dir / name)]
    actors = merge_actor_entries(anchors, joiners)
    agencies = agency_rows(read_galaxy(misp_dir / AGENCY_FILE))
    dropped = filter_aliases(actors, is_common_word) + filter_aliases(agencies, is_common_word)
    actors = [r for r in actors if r.aliases]
    agencies = [r for r in agencies if r.aliases]
    return actors, agencies, dropped


def source_commit(misp_dir: Path) -> str:
    """The upstream commit recorded in the galaxy folder's SOURCE file."""
    source = misp_dir / "SOURCE"
    if not source.exists():
        return "unknown"
    return source.read_text(encoding="utf-8").split()[-1]


def write_table(path: Path, rows: list[GazetteerRow], header: list[str]) -> None:
    """Write rows as TSV behind '#' comment lines."""
    lines = [f"# {h}" for h in header]
    lines.append("\t".join(["canonical_id", "canonical", "label", "country", "aliases", "sources"]))
    for row in sorted(rows, key=lambda r: r.canonical_id):
        lines.append("\t".join([row.canonical_id, row.canonical, row.label, row.country or "",
                                "|".join(row.aliases), ",".join(row.sources)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_dropped(path: Path, dropped: list[tuple[str, str, str]], header: list[str]) -> None:
    """Write the dropped aliases with the reason for each."""
    lines = [f"# {h}" for h in header] + ["canonical_id\talias\treason"]
    lines += ["\t".join(d) for d in sorted(dropped)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misp", type=Path, required=True, help="folder with the MISP galaxy JSON files")
    parser.add_argument("--out", type=Path, required=True, help="folder for the TSV tables")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    actors, agencies, dropped = build_tables(args.misp)
    commit = source_commit(args.misp)
    args.out.mkdir(parents=True, exist_ok=True)
    origin = f"MISP galaxy commit {commit}; licence {LICENCE}. Built by pipeline/gazetteers.py; do not edit."
    write_table(args.out / "threat_actors.tsv", actors, [
        f"Threat actors from {ANCHOR_FILE}, {', '.join(JOINING_FILES)}.", origin])
    write_table(args.out / "agencies.tsv", agencies, [f"Intelligence agencies from {AGENCY_FILE}.", origin])
    write_dropped(args.out / "dropped_aliases.tsv", dropped, [
        "Aliases left out of threat_actors.tsv and agencies.tsv, with the reason.", origin])
    reasons = Counter(reason.split(":")[0] for _, _, reason in dropped)
    LOGGER.info("%d threat actors, %d agencies, %d aliases dropped %s",
                len(actors), len(agencies), len(dropped), dict(reasons))


if __name__ == "__main__":
    main()
