"""pipeline.gazetteers: building the threat-actor and agency tables from MISP galaxy files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import gazetteers
from pipeline.nlp.entities import read_tsv

REPO = Path(__file__).resolve().parents[1]
TABLES = REPO / "corpora" / "gazetteers"
MISP = REPO / ".." / "shared" / "data" / "misp-galaxy"


def rows_by_id(name: str) -> dict[str, dict[str, str]]:
    """Committed table rows keyed by canonical id."""
    return {row["canonical_id"]: row for row in read_tsv(TABLES / name)}


def write_galaxy(folder: Path, name: str, values: list[dict]) -> None:
    """A minimal galaxy cluster file."""
    (folder / name).write_text(json.dumps({"values": values}), encoding="utf-8")


def cluster(value: str, synonyms: list[str] = (), country: str | None = None) -> dict:
    """A minimal galaxy cluster."""
    meta = {"synonyms": list(synonyms)}
    if country:
        meta["country"] = country
    return {"value": value, "meta": meta}


@pytest.fixture
def tiny_galaxy(tmp_path: Path) -> Path:
    """Galaxy files with one actor known under three vendors' names and two actors sharing a nickname."""
    write_galaxy(tmp_path, "threat-actor.json", [
        cluster("APT99", ["Heron Panda", "Bear", "42", "HP"], "CN"),
        cluster("APT98", ["Shared Nick"], "RU"),
        cluster("APT97", ["Shared Nick"], "RU"),
    ])
    write_galaxy(tmp_path, "microsoft-activity-group.json", [cluster("Teal Typhoon", ["APT99", "Heron Panda"], "CN")])
    write_galaxy(tmp_path, "mitre-intrusion-set.json", [cluster("Teal Typhoon - G0999", ["Teal Typhoon"])])
    write_galaxy(tmp_path, "intelligence-agencies.json", [
        cluster("Office of Harbour Watch (OHW)[3]", country="GB"),
        cluster("Border Guard", country="XX"),
    ])
    return tmp_path


def only_bear_is_common(word: str) -> bool:
    """Stub word list: only "bear" counts as a common word."""
    return word.lower() == "bear"


def test_committed_apt31_row_carries_every_vendor_name():
    apt31 = rows_by_id("threat_actors.tsv")["threat-actor:apt31"]
    assert {"Violet Typhoon", "ZIRCONIUM", "Zirconium", "JUDGMENT PANDA"} <= set(apt31["aliases"].split("|"))
    assert apt31["country"] == "CN"


def test_committed_apt28_and_apt29_stay_apart():
    rows = rows_by_id("threat_actors.tsv")
    assert "Fancy Bear" in rows["threat-actor:apt28"]["aliases"].split("|")
    assert "Cozy Bear" in rows["threat-actor:apt29"]["aliases"].split("|")
    assert "Cozy Bear" not in rows["threat-actor:apt28"]["aliases"].split("|")


def test_committed_tables_name_source_commit_and_licence():
    header = (TABLES / "threat_actors.tsv").read_text(encoding="utf-8").splitlines()[:3]
    assert any("commit" in line and "CC0" in line for line in header)


def test_vendor_names_join_the_actor_they_share_names_with(tiny_galaxy):
    actors, _, _ = gazetteers.build_tables(tiny_galaxy, only_bear_is_common)
    apt99 = next(r for r in actors if r.canonical == "APT99")
    assert {"Teal Typhoon", "Heron Panda"} <= set(apt99.aliases)
    assert apt99.sources == ["microsoft-activity-group", "mitre-intrusion-set", "threat-actor"]


def test_short_numeric_and_common_aliases_are_dropped_with_reasons(tiny_galaxy):
    _, _, dropped = gazetteers.build_tables(tiny_galaxy, only_bear_is_common)
    reasons = {alias: reason for _, alias, reason in dropped}
    assert reasons["HP"] == "too short"
    assert reasons["42"] == "too short"
    assert reasons["Bear"] == "common English word"


def test_alias_shared_by_two_equal_actors_belongs_to_neither(tiny_galaxy):
    actors, _, dropped = gazetteers.build_tables(tiny_galaxy, only_bear_is_common)
    assert not any("Shared Nick" in r.aliases for r in actors)
    assert any(alias == "Shared Nick" and reason.startswith("ambiguous") for _, alias, reason in dropped)


def test_agency_names_lose_footnotes_and_keep_their_acronym(tiny_galaxy):
    _, agencies, _ = gazetteers.build_tables(tiny_galaxy, only_bear_is_common)
    office = next(r for r in agencies if r.country == "GB")
    assert (office.canonical, office.aliases) == ("Office of Harbour Watch", ["Office of Harbour Watch", "OHW"])
    assert office.canonical_id == "org:office-of-harbour-watch"


def test_generic_agency_descriptions_are_not_matched(tiny_galaxy):
    _, agencies, _ = gazetteers.build_tables(tiny_galaxy, only_bear_is_common)
    assert not any(r.country == "XX" for r in agencies)


def test_committed_tables_match_a_fresh_build(tmp_path):
    if not MISP.is_dir():
        pytest.skip("../shared not present")
    pytest.importorskip("wordfreq", reason="wordfreq is needed only to rebuild the gazetteers")
    gazetteers.main(["--misp", str(MISP), "--out", str(tmp_path)])
    for name in ("threat_actors.tsv", "agencies.tsv", "dropped_aliases.tsv"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (TABLES / name).read_text(encoding="utf-8")
