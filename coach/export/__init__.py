"""Export a practice session for a mentor: Markdown, one self-contained HTML file, or JSON.

All three formats render the same typed document, built once by :func:`build_document`
(frozen dataclasses; the JSON format is its ``to_dict`` with a ``schema_version``), so they
never disagree. The HTML file has no
external scripts, styles, fonts or images: CSS is inline, recordings are embedded as
``data:`` URIs, and it prints cleanly (``@media print``). Each answer gets an empty "Mentor
comments" box the mentor can type into in the browser or write on once printed.

Redaction (``redact=["Dr. Okafor", ...]``) replaces every occurrence of each name,
case-insensitively and also inside longer words (erring on the side of privacy), with
``[redacted]`` in everything exported: the answer, transcript words and segments, feedback,
evidence text and reasons, question text and tips, settings and file paths. Evidence offsets
are **recomputed** for the redacted answer, so ``text[start:end] == evidence.text`` still holds.
Recordings cannot be redacted (the names are spoken), so a redacted export leaves audio out.

The story checklist (said / not said story points and consistency flags per answer) is added
only when asked (``story=``; ``coach export --with-story``), redacted the same way, and makes
the JSON ``schema_version`` 2.

Writes are atomic: a private temporary file in the target folder, then ``os.replace``; the
file is 0600 because it holds the user's answers.

The package: :mod:`~coach.export.document` (the typed document and how it is built),
:mod:`~coach.export.redaction`, :mod:`~coach.export.markdown`, :mod:`~coach.export.html_page`
and :mod:`~coach.export.writing` (formats, file names, atomic writes).
"""

from coach.export.document import (
    SCHEMA_VERSION,
    SCHEMA_VERSION_STORY,
    AttemptDoc,
    AudioDoc,
    CriterionDoc,
    EvidenceDoc,
    ExportDocument,
    QuestionDoc,
    SessionDoc,
    StoryDoc,
    StoryFlagDoc,
    StoryNotes,
    StoryPointDoc,
    StorySaidDoc,
    TranscriptDoc,
    build_document,
)
from coach.export.html_page import highlight_html, to_html
from coach.export.markdown import to_markdown
from coach.export.redaction import PLACEHOLDER, Redactor
from coach.export.writing import (
    FORMATS,
    Format,
    atomic_write,
    default_export_name,
    default_export_path,
    export_session,
    render,
    write_export,
)

__all__ = [
    "FORMATS",
    "PLACEHOLDER",
    "SCHEMA_VERSION",
    "SCHEMA_VERSION_STORY",
    "AttemptDoc",
    "AudioDoc",
    "CriterionDoc",
    "EvidenceDoc",
    "ExportDocument",
    "Format",
    "QuestionDoc",
    "Redactor",
    "SessionDoc",
    "StoryDoc",
    "StoryFlagDoc",
    "StoryNotes",
    "StoryPointDoc",
    "StorySaidDoc",
    "TranscriptDoc",
    "atomic_write",
    "build_document",
    "default_export_name",
    "default_export_path",
    "export_session",
    "highlight_html",
    "render",
    "to_html",
    "to_markdown",
    "write_export",
]
