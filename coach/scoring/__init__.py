"""Explainable rubric scoring of an answer (pure domain: no audio, no UI, no torch)."""
