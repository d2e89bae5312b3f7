"""The openai-whisper engine (PyTorch, CPU, fp32): the reference implementation.

Decodes through the shared policy of :mod:`coach.audio.engines.policy`; the embedded tiny.en is
converted once into a Whisper checkpoint (see :mod:`coach.audio.models`). PyTorch and whisper
are imported on load, in the caller's worker thread.
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
from coach.audio.protocol import SAMPLE_RATE, Audio
from coach.audio.transcript import Segment
from coach.errors import ModelError


class WhisperEngine(BaseEngine):
    """openai-whisper (PyTorch, CPU, fp32)."""

    name = "whisper"

    def _load(self) -> Any:
        from coach.audio import models

        try:
            import torch
        except ImportError as exc:
            raise ModelError(
                f"openai-whisper is not installed ({exc})", "run `make install`"
            ) from None
        torch.set_num_threads(threads_for(self.options))
        spec = self.spec
        if spec.kind == "embedded":
            return models.load_whisper_from_ct2(models.verify_embedded_model())
        if spec.kind == "path":
            path = spec.path
            if path.is_dir():
                if not (path / "model.bin").is_file():
                    raise ModelError(
                        f"{path} holds no model.bin (not a CTranslate2 Whisper model)",
                        "give a Whisper .pt checkpoint or a CTranslate2 model folder",
                    )
                return models.load_whisper_from_ct2(path)
            import whisper

            try:
                return whisper.load_model(str(path), device="cpu")
            except Exception as exc:
                raise ModelError(
                    f"cannot load Whisper checkpoint {path}: {str(exc).splitlines()[0][:160]}",
                    "give an openai-whisper .pt checkpoint or a model name such as base.en",
                ) from None
        return models.load_named_whisper(spec.value)

    def _tokenizer(self) -> Any:
        from whisper.tokenizer import get_tokenizer

        model = self._model
        return get_tokenizer(
            model.is_multilingual,
            num_languages=model.num_languages,
            language="en",
            task="transcribe",
        )

    def _decode_window(
        self, audio: Audio, prompt: str | None, temperature: float
    ) -> DecodedWindow | None:
        # The steps of whisper.transcribe for its first window, without its tail re-decode.
        import torch
        from whisper.audio import HOP_LENGTH, N_FRAMES, N_SAMPLES, log_mel_spectrogram, pad_or_trim
        from whisper.decoding import DecodingOptions
        from whisper.timing import add_word_timestamps

        opts = self.options
        model = self._model
        tokenizer = self._tokenizer()
        mel = log_mel_spectrogram(torch.from_numpy(audio), model.dims.n_mels, padding=N_SAMPLES)
        frames = min(mel.shape[-1] - N_FRAMES, N_FRAMES)
        mel_window = pad_or_trim(mel[:, :frames], N_FRAMES)
        prompt_tokens = tokenizer.encode(" " + prompt.strip()) if prompt else None
        result = model.decode(
            mel_window,
            DecodingOptions(
                task="transcribe",
                language="en",
                temperature=temperature,
                sample_len=opts.max_new_tokens,
                beam_size=opts.beam_size if temperature == 0 and opts.beam_size > 1 else None,
                prompt=prompt_tokens,
                without_timestamps=True,
                fp16=False,
            ),
        )
        text_tokens = [t for t in result.tokens if t < tokenizer.eot]
        text = tokenizer.decode(text_tokens).strip()
        if not text:
            return None
        seg: dict[str, Any] = {
            "seek": 0,
            "start": 0.0,
            "end": frames * HOP_LENGTH / SAMPLE_RATE,
            "tokens": list(result.tokens),
            "text": text,
        }
        if opts.word_timestamps:
            add_word_timestamps(
                segments=[seg],
                model=model,
                tokenizer=tokenizer,
                mel=mel_window,
                num_frames=frames,
                last_speech_timestamp=0.0,
            )
        return DecodedWindow(
            text=text,
            tokens=len(text_tokens),
            start=float(seg["start"]),
            end=float(seg["end"]),
            words=[
                (w["start"], w["end"], str(w["word"]), w["probability"])
                for w in seg.get("words", [])
            ],
            avg_logprob=float(result.avg_logprob),
            no_speech_prob=float(result.no_speech_prob),
            compression_ratio=float(result.compression_ratio),
        )

    def _decode_library(self, audio: Audio, prompt: str | None, offset_s: float) -> list[Segment]:
        import whisper

        opts = self.options
        decode: dict[str, Any] = {"sample_len": opts.max_new_tokens}
        if opts.beam_size > 1:
            decode["beam_size"] = opts.beam_size
        result = whisper.transcribe(
            self._model,
            audio,
            verbose=None,
            language="en",
            temperature=opts.temperatures,
            compression_ratio_threshold=opts.compression_ratio_threshold,
            logprob_threshold=opts.logprob_threshold,
            no_speech_threshold=opts.no_speech_threshold,
            condition_on_previous_text=False,
            initial_prompt=prompt,
            word_timestamps=opts.word_timestamps,
            fp16=False,
            **decode,
        )
        kept: list[Segment] = []
        for seg in result["segments"]:
            text = str(seg["text"]).strip()
            if keep_segment(
                text, seg["no_speech_prob"], seg["avg_logprob"], seg["compression_ratio"], opts
            ):
                words = [
                    (w["start"], w["end"], str(w["word"]), w["probability"])
                    for w in seg.get("words", [])
                ]
                kept.append(
                    make_segment(
                        text,
                        seg["start"],
                        seg["end"],
                        words,
                        seg["avg_logprob"],
                        seg["no_speech_prob"],
                        offset_s,
                    )
                )
        return kept
