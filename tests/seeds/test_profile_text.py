"""Reading a profile page's text: the real seed, broken files, and generated profiles."""

from __future__ import annotations

import datetime
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seeds.profile_text import (
    Profile,
    ProfileEntry,
    ProfileFormatError,
    ReportedFigures,
    decode_profile,
    parse_profile,
)

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "profile-david-bau.txt"
FIXTURES = Path(__file__).parent / "fixtures"
HEADER = "Ada Lovelace\n\nCV\nh-index3\n4papers\n\n4 Papers\n\n"


@pytest.fixture(scope="module")
def seed_text() -> str:
    return decode_profile(SEED.read_bytes())


@pytest.fixture(scope="module")
def seed(seed_text: str) -> Profile:
    return parse_profile(seed_text, undated_year=2026)


def entry_titled(profile: Profile, title: str) -> ProfileEntry:
    [entry] = [e for e in profile.entries if e.title == title]
    return entry


def format_error(text: str, *, undated_year: int = 2026) -> ProfileFormatError:
    with pytest.raises(ProfileFormatError) as caught:
        parse_profile(text, undated_year=undated_year)
    return caught.value


def fixture_error(name: str) -> ProfileFormatError:
    return format_error(decode_profile((FIXTURES / name).read_bytes()))


# --- the real seed ------------------------------------------------------------------------


def test_the_seed_has_fifty_entries_though_it_reports_seventy_one_papers(seed: Profile) -> None:
    assert seed.name == "David Bau"
    assert len(seed.entries) == 50
    assert seed.listed_paper_count == 71


def test_the_seed_header_figures_are_read_from_their_glued_labels(seed: Profile) -> None:
    assert seed.reported == ReportedFigures(
        h_index=55, paper_count=71, citation_count=14869, novelty=0.48, ai_score=60.0
    )


def test_the_first_seed_entry_is_read_field_by_field(seed: Profile) -> None:
    first = seed.entries[0]
    assert first.title == "Mass-Editing Memory in a Transformer"
    assert first.abstract is not None
    assert first.abstract.startswith("Recent work has shown exciting promise")
    assert first.abstract.endswith("Our code and data are at https://memit.baulab.info.")
    assert first == ProfileEntry(
        line=12,
        source_score=None,
        category="cs.CL",
        published_on=datetime.date(2022, 10, 13),
        year_given=True,
        has_code=False,
        title="Mass-Editing Memory in a Transformer",
        authors=("Kevin Meng", "Arnab Sen Sharma", "Alex Andonian"),
        authors_truncated=True,
        institutions=("mit",),
        abstract=first.abstract,
        links=("https://memit.baulab.info",),
    )


def test_a_scored_entry_without_a_year_takes_the_capture_year(seed: Profile) -> None:
    entry = entry_titled(
        seed, "Shared Lexical Task Representations Explain Behavioral Variability In LLMs"
    )
    assert entry.line == 145
    assert entry.source_score == 53.8
    assert entry.category == "cs.CL"
    assert entry.published_on == datetime.date(2026, 4, 23)
    assert entry.year_given is False
    assert entry.has_code is False
    assert entry.authors == ("Zhuonan Yang", "Jacob Xiaochen Li", "Francisco Piedrahita Velez")
    assert entry.authors_truncated is True
    assert entry.institutions == ()
    assert entry.links == ()


def test_a_code_entry_is_flagged_and_keeps_a_trailing_slash(seed: Profile) -> None:
    entry = entry_titled(seed, "Distilling Diversity and Control in Diffusion Models")
    assert entry.line == 166
    assert entry.source_score is None
    assert entry.category == "cs.GR"
    assert entry.published_on == datetime.date(2025, 3, 13)
    assert entry.year_given is True
    assert entry.has_code is True
    assert entry.authors == ("Rohit Gandikota", "David Bau")
    assert entry.authors_truncated is False
    assert entry.institutions == ()
    assert entry.links == ("https://distillation.baulab.info/",)


def test_an_entry_with_two_institutions_keeps_their_order(seed: Profile) -> None:
    entry = entry_titled(seed, "Linearity of Relation Decoding in Transformer Language Models")
    assert entry.line == 26
    assert entry.category == "cs.CL"
    assert entry.published_on == datetime.date(2023, 8, 17)
    assert entry.has_code is False
    assert entry.authors == ("Evan Hernandez", "Arnab Sen Sharma", "Tal Haklay")
    assert entry.authors_truncated is True
    assert entry.institutions == ("microsoft-research", "mit")
    assert entry.links == ()


def test_a_full_byline_is_not_truncated_and_keeps_accents(seed: Profile) -> None:
    entry = entry_titled(seed, "Model Lakes")
    assert entry.line == 348
    assert entry.category == "cs.DB"
    assert entry.published_on == datetime.date(2024, 3, 4)
    assert entry.authors == ("Koyena Pal", "David Bau", "Renée J. Miller")
    assert entry.authors_truncated is False
    assert entry.institutions == ()


def test_the_last_seed_entry_keeps_its_abstract_without_a_final_newline(seed: Profile) -> None:
    last = seed.entries[-1]
    assert last.line == 355
    assert last.category == "cs.SE"
    assert last.abstract is not None
    assert last.abstract.endswith("Ellora and Durban.")


def test_links_lose_sentence_punctuation_even_after_a_space(seed: Profile) -> None:
    links = {e.title: e.links for e in seed.entries if e.links}
    assert links == {
        "Mass-Editing Memory in a Transformer": ("https://memit.baulab.info",),
        "Unified Concept Editing in Diffusion Models": ("https://unified.baulab.info",),
        "Erasing Concepts from Diffusion Models": ("https://erasing.baulab.info/",),
        "NNsight and NDIF: Democratizing Access to Open-Weight Foundation Model Internals": (
            "https://nnsight.net/",
        ),
        "Function Vectors in Large Language Models": ("https://functions.baulab.info",),
        "Concept Sliders: LoRA Adaptors for Precise Control in Diffusion Models": (
            "https://sliders.baulab.info/",
        ),
        "Distilling Diversity and Control in Diffusion Models": (
            "https://distillation.baulab.info/",
        ),
        "SliderSpace: Decomposing the Visual Capabilities of Diffusion Models": (
            "https://sliderspace.baulab.info",
        ),
        "Editing a classifier by rewriting its prediction rules": (
            "https://github.com/MadryLab/EditingClassifiers",
        ),
        "What makes fake images detectable? Understanding properties that generalize": (
            "https://chail.github.io/patch-forensics/",
        ),
    }


def test_nine_seed_entries_have_code(seed: Profile) -> None:
    assert sum(entry.has_code for entry in seed.entries) == 9


def test_every_seed_entry_is_a_computer_science_category(seed: Profile) -> None:
    categories = {entry.category for entry in seed.entries}
    assert categories == {"cs.CL", "cs.CV", "cs.LG", "cs.AI", "cs.GR", "cs.DB", "cs.SE"}
    assert all(entry.category.startswith("cs.") for entry in seed.entries)


def test_every_seed_entry_has_a_title_a_byline_and_an_abstract(seed: Profile) -> None:
    assert all(e.title and e.authors and e.abstract for e in seed.entries)
    assert sum(e.authors_truncated for e in seed.entries) == 44
    assert sum(bool(e.institutions) for e in seed.entries) == 7


@pytest.mark.parametrize("year", [2026, 2024])
def test_entries_without_a_year_take_the_year_the_caller_gives(seed_text: str, year: int) -> None:
    profile = parse_profile(seed_text, undated_year=year)
    undated = {e.title: e.published_on for e in profile.entries if not e.year_given}
    assert undated == {
        "Agents of Chaos": datetime.date(year, 2, 23),
        "Shared Lexical Task Representations Explain Behavioral Variability In LLMs": (
            datetime.date(year, 4, 23)
        ),
        "The Dual Mechanisms of Spatial Reasoning in Vision-Language Models": (
            datetime.date(year, 3, 23)
        ),
        "Do explanations generalize across large reasoning models?": datetime.date(year, 1, 16),
        "Mechanisms of AI Protein Folding in ESMFold": datetime.date(year, 2, 5),
    }


def test_the_capture_year_does_not_touch_dated_entries(seed_text: str) -> None:
    a = parse_profile(seed_text, undated_year=2026)
    b = parse_profile(seed_text, undated_year=1999)
    assert [e for e in a.entries if e.year_given] == [e for e in b.entries if e.year_given]


def test_crlf_endings_trailing_spaces_and_a_bom_change_nothing(
    seed_text: str, seed: Profile
) -> None:
    mangled = "\ufeff" + seed_text.replace("\n", "  \t\r\n")
    assert parse_profile(mangled, undated_year=2026) == seed
    assert decode_profile(b"\xef\xbb\xbf" + seed_text.encode()) == seed_text


# --- small valid texts --------------------------------------------------------------------


def test_a_header_alone_gives_no_entries() -> None:
    assert parse_profile(HEADER, undated_year=2026) == Profile(
        name="Ada Lovelace",
        reported=ReportedFigures(h_index=3, paper_count=4),
        listed_paper_count=4,
        entries=(),
    )


def test_a_name_alone_gives_no_figures() -> None:
    assert parse_profile("Ada Lovelace", undated_year=2026) == Profile(
        name="Ada Lovelace", reported=ReportedFigures(), listed_paper_count=None, entries=()
    )


def test_entries_may_follow_the_figures_without_a_papers_line() -> None:
    profile = parse_profile(
        "Ada\nNovelty48.3%\n1,000,000citations\nCVMar 3\nT\nA\n", undated_year=2026
    )
    assert profile.reported == ReportedFigures(novelty=0.483, citation_count=1_000_000)
    assert profile.listed_paper_count is None
    assert [(e.line, e.published_on, e.abstract) for e in profile.entries] == [
        (4, datetime.date(2026, 3, 3), None)
    ]


def test_an_entry_without_an_abstract_is_followed_by_the_next_head() -> None:
    text = HEADER + "LGJan 2, 2020\nFirst\n\nA B\n\nAIFeb 23\nSecond\n\nC D et al.\n"
    first, second = parse_profile(text, undated_year=2026).entries
    assert (first.line, first.abstract, first.links) == (9, None, ())
    assert (second.line, second.category, second.authors_truncated) == (14, "cs.AI", True)


def test_a_middle_dot_inside_a_name_is_part_of_the_name() -> None:
    text = HEADER + "CLOct 13, 2022\nT\nMarcel·lí Ros, Ada · upf, mit\n"
    [entry] = parse_profile(text, undated_year=2026).entries
    assert entry.authors == ("Marcel·lí Ros", "Ada")
    assert entry.institutions == ("upf", "mit")


@pytest.mark.parametrize("byline", ["A, B et al.", "A, B, et al.", "A,B  et al"])
def test_et_al_marks_a_cut_byline_however_it_is_attached(byline: str) -> None:
    [entry] = parse_profile(HEADER + f"CLOct 13, 2022\nT\n{byline}\n", undated_year=2026).entries
    assert (entry.authors, entry.authors_truncated) == (("A", "B"), True)


def test_links_keep_their_own_brackets_and_are_listed_once() -> None:
    abstract = (
        "See (https://en.wikipedia.org/wiki/Foo_(bar)), <https://a.org/x>; "
        '"https://a.org/x". And HTTP://B.ORG/?q=1!'
    )
    text = HEADER + f"CLOct 13, 2022\nT\nA\n{abstract}\n"
    [entry] = parse_profile(text, undated_year=2026).entries
    assert entry.links == (
        "https://en.wikipedia.org/wiki/Foo_(bar)",
        "https://a.org/x",
        "HTTP://B.ORG/?q=1",
    )


def test_format_errors_survive_pickling() -> None:
    error = ProfileFormatError(3, "a title", None)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.line, copy.expected, copy.found, str(copy)) == (
        3,
        "a title",
        None,
        "line 3: expected a title, found end of file",
    )


def test_the_capture_year_must_be_a_calendar_year() -> None:
    with pytest.raises(ValueError, match="undated_year must be a calendar year, not 0"):
        parse_profile(HEADER, undated_year=0)


# --- broken files -------------------------------------------------------------------------


def test_an_empty_file_is_missing_the_name() -> None:
    error = fixture_error("empty.txt")
    assert (error.line, error.expected, error.found) == (1, "the researcher's name", None)
    assert str(error) == "line 1: expected the researcher's name, found end of file"


def test_a_file_of_whitespace_is_missing_the_name() -> None:
    assert str(format_error(" \r\n\t\n\n")) == (
        "line 1: expected the researcher's name, found end of file"
    )


@pytest.mark.parametrize(
    ("text", "line", "found"),
    [
        ("CV\nh-index3\n", 1, "CV"),
        ("\nh-index3\n", 2, "h-index3"),
        ("71 Papers\n", 1, "71 Papers"),
        ("CLOct 13, 2022\nT\nA\n", 1, "CLOct 13, 2022"),
    ],
)
def test_a_header_without_the_name_is_refused(text: str, line: int, found: str) -> None:
    error = format_error(text)
    assert (error.line, error.expected, error.found) == (line, "the researcher's name", found)


def test_an_unknown_header_figure_names_its_line() -> None:
    error = format_error("Ada\n\nCV\nh-index3\ni10-index7\n\n4 Papers\n")
    assert error.line == 5
    assert str(error) == (
        "line 5: expected a header figure (h-index, papers, citations, Novelty, AI Score), "
        "the 'N Papers' line or an entry head line, found 'i10-index7'"
    )


def test_a_header_figure_given_twice_is_refused() -> None:
    error = format_error("Ada\nh-index3\nh-index4\n")
    assert str(error) == "line 3: expected each header figure at most once, found 'h-index4'"


def test_a_head_followed_by_a_head_is_missing_its_title() -> None:
    error = fixture_error("missing-title.txt")
    assert error.line == 10
    assert str(error) == (
        "line 10: expected the title of the entry on line 9, found 'CVAug 25, 2023Code'"
    )


def test_a_head_at_the_end_of_the_file_is_missing_its_title() -> None:
    error = format_error(HEADER + "CLOct 13, 2022\n\n")
    assert str(error) == "line 11: expected the title of the entry on line 9, found end of file"


def test_a_title_at_the_end_of_the_file_is_missing_its_byline() -> None:
    error = format_error(HEADER + "CLOct 13, 2022\nT")
    assert str(error) == (
        "line 11: expected a byline (names separated by commas), found end of file"
    )


def test_text_where_an_entry_should_start_is_not_a_head_line() -> None:
    error = fixture_error("not-a-head.txt")
    assert error.line == 16
    assert error.found == "This paragraph continues the abstract."
    assert str(error) == (
        "line 16: expected an entry head line: optional score, category code, date, "
        "optional 'Code' (like 'CLOct 13, 2022' or '53.8CVMar 23Code') after the entry on "
        "line 9, which has its title (line 10), byline (line 12) and abstract (line 14), "
        "found 'This paragraph continues the abstract.'"
    )


def seed_with(line_number: int, text: str) -> str:
    """The seed with `text` inserted as line `line_number`."""
    lines = SEED.read_text(encoding="utf-8").split("\n")
    return "\n".join([*lines[: line_number - 1], text, *lines[line_number - 1 :]])


def test_a_line_too_many_before_the_byline_is_reported_where_it_is() -> None:
    # Line 40 is the head of "Local Relighting of Real Scenes", its byline on line 43.
    error = format_error(seed_with(41, "junk junk"))
    assert (error.line, error.found) == (41, "junk junk")
    assert str(error) == (
        "line 41: expected one title line between the head line 40 and the byline on line 44,"
        " not 2 (lines 41, 42), found 'junk junk'"
    )
    assert error.reason == str(error).removeprefix("line 41: ")


def test_a_line_too_many_after_the_byline_names_the_lines_of_the_entry() -> None:
    error = format_error(seed_with(44, "junk junk"))
    assert (error.line, error.found) == (46, SEED.read_text().split("\n")[44])
    assert error.expected.endswith(
        "after the entry on line 40, which has its title (line 41), byline (line 43)"
        " and abstract (line 44)"
    )


@pytest.mark.parametrize("character", ["\x00", "\ud800"])
def test_text_no_database_stores_is_refused_at_its_line(character: str) -> None:
    error = format_error(HEADER + f"CLOct 13, 2022\nA{character}title\nAda Lovelace\n")
    assert (error.line, error.found) == (10, f"A{character}title")
    assert error.expected == (
        "text without NUL characters or unpaired surrogates (no database stores them)"
    )


@pytest.mark.parametrize(
    "head", ["cLOct 13, 2022", "CLOct 13 2022x", "CLOct 132, 2022", "Code", "CL", "53.8CL"]
)
def test_near_misses_of_a_head_line_are_refused(head: str) -> None:
    error = format_error(HEADER + head + "\nT\nA\n")
    assert (error.line, error.found) == (9, head)
    assert error.expected.startswith("an entry head line")


def test_a_date_that_does_not_exist_is_refused() -> None:
    error = fixture_error("impossible-date.txt")
    assert error.line == 9
    assert str(error) == (
        "line 9: expected a real calendar date (like 'Oct 13, 2022' or 'Feb 23'), "
        "found 'CLFeb 30, 2023'"
    )


@pytest.mark.parametrize(
    "head", ["CLFoo 3, 2023", "CLApr 31, 2023", "CLOct 0, 2022", "CLJan 1, 0000"]
)
def test_dates_with_a_bad_month_day_or_year_are_refused(head: str) -> None:
    error = format_error(HEADER + head + "\nT\nA\n")
    assert (error.line, error.found) == (9, head)
    assert error.expected == "a real calendar date (like 'Oct 13, 2022' or 'Feb 23')"


def test_february_29_without_a_year_needs_a_leap_capture_year() -> None:
    text = HEADER + "CLFeb 29\nT\nA\n"
    [entry] = parse_profile(text, undated_year=2024).entries
    assert entry.published_on == datetime.date(2024, 2, 29)
    assert format_error(text, undated_year=2026).line == 9


def test_a_byline_of_only_et_al_and_institutions_has_no_names() -> None:
    error = fixture_error("nameless-byline.txt")
    assert error.line == 12
    assert str(error) == (
        "line 12: expected a byline (names separated by commas), found 'et al. · mit'"
    )


@pytest.mark.parametrize(
    "byline", ["et al.", "· mit", "  · mit", "A, , B", "A,", ", A et al.", ", et al. · mit"]
)
def test_bylines_with_an_empty_name_are_refused(byline: str) -> None:
    error = format_error(HEADER + "CLOct 13, 2022\nT\n\n" + byline + "\n")
    assert (error.line, error.found) == (12, byline.strip())
    assert error.expected == "a byline (names separated by commas)"


@pytest.mark.parametrize("byline", ["A · ", "A · mit, , stanford", "A · mit, two words"])
def test_bylines_with_broken_institutions_are_refused(byline: str) -> None:
    error = format_error(HEADER + "CLOct 13, 2022\nT\n" + byline + "\n")
    assert (error.line, error.found) == (11, byline.strip())
    assert error.expected == "institution slugs after ' · ' (like 'mit, microsoft-research')"


def test_long_offending_lines_are_shortened_in_the_message() -> None:
    error = format_error(HEADER + "x" * 500 + "\n")
    assert error.found == "x" * 500
    assert str(error).endswith("found '" + "x" * 60 + "'…")


def test_bytes_that_are_not_utf8_name_their_line() -> None:
    with pytest.raises(ProfileFormatError) as caught:
        decode_profile((FIXTURES / "not-utf8.txt").read_bytes())
    assert caught.value.line == 12
    assert str(caught.value) == (
        "line 12: expected UTF-8 text (byte 0xe9 at byte column 18 is not UTF-8), "
        "found 'Ada Lovelace, Ren\ufffde Miller'"
    )


def test_a_bad_byte_after_a_bom_is_counted_from_the_start_of_the_text() -> None:
    with pytest.raises(ProfileFormatError) as caught:
        decode_profile(b"\xef\xbb\xbfAd\xffa\r\nCV\n")
    assert str(caught.value) == (
        "line 1: expected UTF-8 text (byte 0xff at byte column 3 is not UTF-8), found 'Ad\ufffda'"
    )


def test_a_truncated_character_at_the_end_names_the_last_line() -> None:
    with pytest.raises(ProfileFormatError) as caught:
        decode_profile("Ada\n\nRen\u00e9e".encode()[:-2])
    assert (caught.value.line, caught.value.expected) == (
        3,
        "UTF-8 text (byte 0xc3 at byte column 4 is not UTF-8)",
    )


# --- generated profiles -------------------------------------------------------------------

# Anything a head line could be mistaken for; generated free text avoids it.
HEAD_LIKE = re.compile(r"[\d.\s]*[A-Z]{2,3}\s*[A-Z][a-z]{2}\s*\d.*|.*\bhttps?://.*", re.I | re.S)
LETTERS = st.characters(categories=["L"])
WORDS = st.text(st.one_of(LETTERS, st.sampled_from(" .-'()?:!")), min_size=1, max_size=40).map(
    str.strip
)
FREE_TEXT = WORDS.filter(lambda s: bool(s) and not HEAD_LIKE.fullmatch(s))
NAMES = (
    st.text(st.one_of(LETTERS, st.sampled_from(" .-'")), min_size=1, max_size=25)
    .map(str.strip)
    .filter(lambda s: bool(s) and not re.search(r"\bet\s+al\.?$", s))
)
SLUGS = st.from_regex(r"[a-z0-9]+(-[a-z0-9]+)*", fullmatch=True)
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


@dataclass(frozen=True)
class Rendered:
    text: str
    profile: Profile


@st.composite
def entries(draw: st.DrawFn, line: int, undated_year: int) -> tuple[list[str], ProfileEntry]:
    tenths = draw(st.none() | st.integers(0, 9999))
    code = draw(st.from_regex(r"[A-Z]{2,3}", fullmatch=True))
    year_given = draw(st.booleans())
    in_year = (datetime.date(undated_year, 1, 1), datetime.date(undated_year, 12, 31))
    dates = st.dates(datetime.date(1000, 1, 1)) if year_given else st.dates(*in_year)
    day = draw(dates)
    has_code = draw(st.booleans())
    authors = tuple(draw(st.lists(NAMES, min_size=1, max_size=4)))
    truncated = draw(st.booleans())
    institutions = tuple(draw(st.lists(SLUGS, max_size=3)))
    abstract = draw(st.none() | FREE_TEXT)
    score = "" if tenths is None else f"{tenths // 10}.{tenths % 10}"
    date_text = f"{MONTHS[day.month - 1]} {day.day}" + (f", {day.year}" if year_given else "")
    byline = ", ".join(authors) + (" et al." if truncated else "")
    byline += f" · {', '.join(institutions)}" if institutions else ""
    title = draw(FREE_TEXT)
    lines = [f"{score}{code}{date_text}{'Code' if has_code else ''}", title, "", byline, ""]
    lines += [] if abstract is None else [abstract, ""]
    entry = ProfileEntry(
        line=line,
        source_score=None if tenths is None else tenths / 10,
        category=f"cs.{code}",
        published_on=day,
        year_given=year_given,
        has_code=has_code,
        title=title,
        authors=authors,
        authors_truncated=truncated,
        institutions=institutions,
        abstract=abstract,
        links=(),
    )
    return lines, entry


@st.composite
def profiles(draw: st.DrawFn, undated_year: int) -> Rendered:
    name = draw(NAMES.filter(lambda s: not HEAD_LIKE.fullmatch(s) and s != "CV"))
    h_index, papers, citations, percent = draw(
        st.lists(st.none() | st.integers(0, 10**6), min_size=4, max_size=4)
    )
    ai_score = draw(st.none() | st.integers(0, 100))
    listed = draw(st.none() | st.integers(0, 500))
    figures = [
        "" if h_index is None else f"h-index{h_index}",
        "" if papers is None else f"{papers}papers",
        "" if citations is None else f"{citations:,}citations",
        "" if percent is None else f"Novelty{percent}%",
        "" if ai_score is None else f"AI Score{ai_score}",
    ]
    lines = [name, "", "CV", *draw(st.permutations(figures)), ""]
    lines += [] if listed is None else [f"{listed} Papers", ""]
    parsed: list[ProfileEntry] = []
    for _ in range(draw(st.integers(0, 3))):
        entry_lines, entry = draw(entries(len(lines) + 1, undated_year))
        lines += entry_lines
        parsed.append(entry)
    reported = ReportedFigures(
        h_index=h_index,
        paper_count=papers,
        citation_count=citations,
        novelty=None if percent is None else percent / 100,
        ai_score=None if ai_score is None else float(ai_score),
    )
    return Rendered("\n".join(lines), Profile(name, reported, listed, tuple(parsed)))


@given(st.integers(1, 9999).flatmap(lambda year: st.tuples(st.just(year), profiles(year))))
def test_a_rendered_profile_parses_back_to_what_was_rendered(case: tuple[int, Rendered]) -> None:
    year, rendered = case
    assert parse_profile(rendered.text, undated_year=year) == rendered.profile


@given(profiles(2024), st.sampled_from(["\n", "\r\n"]), st.sampled_from(["", " ", "\t "]))
def test_line_endings_and_trailing_space_do_not_change_the_profile(
    rendered: Rendered, ending: str, padding: str
) -> None:
    text = rendered.text.replace("\n", padding + ending)
    assert parse_profile(text, undated_year=2024) == rendered.profile


PUNCTUATION = ".,;:!?'\")]}>\u00bb\u201d\u2019"


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"https?://[a-z]+\.[a-z]{2,3}(/[A-Za-z0-9_/-]*)?", fullmatch=True),
            st.text(st.sampled_from(PUNCTUATION), max_size=4),
        ),
        min_size=1,
        max_size=4,
    ),
    FREE_TEXT,
)
def test_links_never_end_in_punctuation_and_keep_their_order(
    parts: list[tuple[str, str]], prose: str
) -> None:
    abstract = " ".join(f"{prose} {address}{tail}" for address, tail in parts)
    [entry] = parse_profile(
        HEADER + f"CLOct 1, 2020\nT\nA\n{abstract}\n", undated_year=2026
    ).entries
    assert entry.links == tuple(dict.fromkeys(address for address, _ in parts))
    assert not any(link[-1] in PUNCTUATION for link in entry.links)


# A leading U+FEFF is read as a byte order mark, not as text.
UNMARKED_TEXT = st.text(max_size=80).filter(lambda text: not text.startswith("\ufeff"))


@given(UNMARKED_TEXT, st.sampled_from([b"\xff", b"\xfe", b"\x80", b"\xc0\xaf"]), st.binary())
def test_the_first_bad_byte_is_reported_at_its_line_and_column(
    prefix: str, bad: bytes, suffix: bytes
) -> None:
    with pytest.raises(ProfileFormatError) as caught:
        decode_profile(prefix.encode() + bad + suffix)
    column = len(prefix.rpartition("\n")[2].encode()) + 1
    assert caught.value.line == prefix.count("\n") + 1
    assert caught.value.expected == (
        f"UTF-8 text (byte 0x{bad[0]:02x} at byte column {column} is not UTF-8)"
    )


@given(UNMARKED_TEXT)
def test_any_text_decodes_to_itself_with_or_without_a_bom(text: str) -> None:
    assert decode_profile(text.encode()) == text
    assert decode_profile(b"\xef\xbb\xbf" + text.encode()) == text


FRAGMENTS = [
    "", " ", "Ada", "CV", "h-index5", "7papers", "1,234citations", "Novelty4%", "AI Score9",
    "7 Papers", "CLOct 13, 2022", "53.8CVFeb 23Code", "CLFeb 30, 2023", "A Title",
    "A, B et al. · mit", "et al.", "· mit", "A, , B", "see https://x.org/.", "\r", "\ufeff",
]  # fmt: skip


@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=20), max_size=30), st.integers())
def test_any_text_parses_or_fails_with_a_line_inside_the_file(lines: list[str], year: int) -> None:
    text = "\n".join(lines)
    undated_year = year % 9999 + 1
    try:
        parse_profile(text, undated_year=undated_year)
    except ProfileFormatError as error:
        line = error.line
    else:
        return
    assert 1 <= line <= text.count("\n") + 2  # the line just past the last names the end
