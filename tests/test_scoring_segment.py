"""Segments for the semantic layer: typed sentences, run-on sentences and bare transcripts."""

from __future__ import annotations

from coach.scoring.segment import MAX_TOKENS, segments
from coach.scoring.text import analyse

ASR = (
    "so last cycle i only applied to med peds and i went through soap but i didnt match looking"
    " back i didnt have a backup specialty and my list was pretty narrow since then ive been"
    " working full time as a research coordinator in an adult congenital heart clinic and i did"
    " a sub internship on a med peds service where i got a strong letter this year im dual"
    " applying and i feel much better prepared to start residency"
)


def test_typed_sentences_are_segments_with_their_spans() -> None:
    text = "I did not match.  Since then I have worked in a clinic! Why? Because."
    segs = segments(analyse(text))
    assert [s.text for s in segs] == [
        "I did not match.",
        "Since then I have worked in a clinic!",
        "Why?",
        "Because.",
    ]
    for s in segs:
        assert text[s.start : s.end] == s.text


def test_a_transcript_is_cut_at_discourse_markers() -> None:
    segs = [s.text for s in segments(analyse(ASR))]
    assert segs[0].endswith("i didnt match")
    assert segs[1].startswith("looking back")
    assert any(s.startswith("since then ive been working") for s in segs)
    assert " ".join(segs) == ASR
    assert all(6 <= len(s.split()) <= MAX_TOKENS for s in segs)


def test_a_run_on_typed_sentence_is_cut_at_a_clause_break() -> None:
    text = (
        "I applied to twenty programs and interviewed at six of them over the winter, and I did"
        " not match, so since then I have worked as a research coordinator in a transition clinic"
        " for young adults with sickle cell disease and earned two new letters."
    )
    segs = segments(analyse(text))
    assert len(segs) == 2
    assert all(text[s.start : s.end] == s.text for s in segs)
    assert segs[1].text.endswith("letters.")
