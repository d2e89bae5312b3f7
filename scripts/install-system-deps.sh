#!/usr/bin/env bash
# Installs the system libraries the coach needs when they are missing:
# PortAudio (recording), ALSA, libsndfile, espeak-ng (read-aloud and test speech), sox, ffmpeg (MP3/M4A),
# tmux (TUI test), strace (the zero-network test), chromium (the headless browser test of mentor
# comments in the HTML export) and python3-venv.
# Debian/Ubuntu only; elsewhere it prints what to install and carries on.
set -euo pipefail

need=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib libportaudio.so.2 || need+=(libportaudio2)
have_lib libasound.so.2 || need+=(libasound2)
have_lib libsndfile.so.1 || need+=(libsndfile1)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v tmux >/dev/null || need+=(tmux)
# Only tests use it (tests/test_mentor_browser.py skips without it); driven over a pipe, no driver.
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || need+=(chromium)
command -v strace >/dev/null || need+=(strace)
# Debian's python3 ships venv/ensurepip separately.
PY="${PYTHON:-python3}"
"$PY" -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)

[ ${#need[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing system packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "Missing system packages: ${need[*]}" >&2
  echo "  macOS:   brew install portaudio libsndfile espeak-ng sox ffmpeg tmux (and chromium for one test)" >&2
  echo "  Windows: PortAudio ships inside the sounddevice wheel; install espeak-ng, sox and ffmpeg and put them on PATH" >&2
fi
