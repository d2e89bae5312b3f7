"""Matching what people say, robust to speech-to-text: spoken numbers ("two hundred forty-five"),
stems, misheard words. Shared, pure text helpers used by the question bank's follow-up rules and
by the story checks; they import nothing else of the coach."""
