"""Audio: reading files, recording from the microphone, and local speech-to-text engines.

Nothing here imports Textual. Heavy libraries (torch, whisper, ctranslate2) are imported
inside functions, so importing this package is cheap.
"""
