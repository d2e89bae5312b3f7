"""The faster-whisper engine (CTranslate2, CPU, int8 by default): the default engine.

Decodes through the shared policy of :mod:`coach.audio.engines.policy`, with the same words as
openai-whisper from the same weights. CTranslate2 is imported on load, in a worker thread.
"""

from __future__ import annotations

from typing import Any

from coach.audio.engines.policy import (
    BaseEngine,
    DecodedWindow,
    keep_segment,
    make_segment,
    threads_for,
)
from coach.audio.protocol import Audio
from coach.audio.transcript import Segment
from coach.errors import ModelError


class FasterWhisperEngine(BaseEngine):
    """faster-whisper (CTranslate2, CPU; int8 by default)."""

    name = "faster-whisper"

    def _load(self) -> Any:
        from coach.audio import models
        from coach.paths import cache_dir, private_dir

        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelError(
                f"faster-whisper is not installed ({exc})", "run `make install`"
            ) from None
        opts = self.options
        kwargs: dict[str, Any] = {
            "device": "cpu",
            "compute_type": opts.compute_type,
            "cpu_threads": threads_for(opts),
        }
        spec = self.spec
        if spec.kind == "embedded":
            return WhisperModel(str(models.verify_embedded_model()), **kwargs)
        if spec.kind == "path":
            path = spec.path
            if not (path.is_dir() and (path / "model.bin").is_file()):
                raise ModelError(
                    f"{path} is not a CTranslate2 model folder (no model.bin)",
                    "faster-whisper needs a converted CTranslate2 folder; use --engine whisper "
                    "for .pt checkpoints",
                )
            try:
                return WhisperModel(str(path), **kwargs)
            except Exception as exc:
                raise ModelError(
                    f"cannot load {path}: {str(exc).splitlines()[0][:160]}", models.EMBEDDED_FIX
                ) from None
        local_only = models.faster_whisper_local_only()
        try:
            return WhisperModel(
                spec.value,
                download_root=str(private_dir(cache_dir() / "faster-whisper")),
                local_files_only=local_only,
                **kwargs,
            )
        except ValueError as exc:  # an unknown size name
            raise ModelError(
                f"unknown faster-whisper model {spec.value!r}: {exc}", models.EMBEDDED_FIX
            ) from None
        except Exception as exc:
            if local_only:
                raise models.offline_error(spec.value, self.name) from None
            raise ModelError(
                f"cannot load faster-whisper model {spec.value!r}: {str(exc).splitlines()[0][:160]}",
                models.EMBEDDED_FIX,
            ) from None

    def _decode_window(
        self, audio: Audio, prompt: str | None, temperature: float
    ) -> DecodedWindow | None:
        opts = self.options
        raw_segments, _info = self._model.transcribe(
            audio,
            language="en",
            task="transcribe",
            beam_size=opts.beam_size,
            best_of=1,
            temperature=[temperature],  # the fallback loop is ours, shared with whisper
            compression_ratio_threshold=None,
            log_prob_threshold=None,
            no_speech_threshold=None,
            condition_on_previous_text=False,
            initial_prompt=prompt,
            word_timestamps=opts.word_timestamps,
            max_new_tokens=opts.max_new_tokens,
            vad_filter=False,
            without_timestamps=True,
        )
        # Text tokens only: the first window is one segment. Stop there, before the
        # generator re-decodes the tail after the last word (see the module docstring).
        seg = next(iter(raw_segments), None)
        if seg is None or not seg.text.strip():
            return None
        return DecodedWindow(
            text=seg.text.strip(),
            tokens=len(seg.tokens),
            start=float(seg.start),
            end=float(seg.end),
            words=[(w.start, w.end, w.word, w.probability) for w in (seg.words or [])],
            avg_logprob=float(seg.avg_logprob),
            no_speech_prob=float(seg.no_speech_prob),
            compression_ratio=float(seg.compression_ratio),
        )

    def _decode_library(self, audio: Audio, prompt: str | None, offset_s: float) -> list[Segment]:
        opts = self.options
        raw_segments, _info = self._model.transcribe(
            audio,
            language="en",
            beam_size=opts.beam_size,
            best_of=1,
            temperature=list(opts.temperatures),
            compression_ratio_threshold=opts.compression_ratio_threshold,
            log_prob_threshold=opts.logprob_threshold,
            no_speech_threshold=opts.no_speech_threshold,
            condition_on_previous_text=False,
            initial_prompt=prompt,
            word_timestamps=opts.word_timestamps,
            max_new_tokens=opts.max_new_tokens,
            vad_filter=False,
        )
        kept: list[Segment] = []
        for seg in raw_segments:  # a generator: decoding happens while iterating
            text = seg.text.strip()
            if keep_segment(text, seg.no_speech_prob, seg.avg_logprob, seg.compression_ratio, opts):
                words = [(w.start, w.end, w.word, w.probability) for w in (seg.words or [])]
                kept.append(
                    make_segment(
                        text,
                        seg.start,
                        seg.end,
                        words,
                        seg.avg_logprob,
                        seg.no_speech_prob,
                        offset_s,
                    )
                )
        return kept
