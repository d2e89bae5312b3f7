"""A mentor in a real browser: headless Chromium opens the exported HTML from disk, types
comments into each answer's box and the overall note, presses "Save comments", and the file it
downloads goes back into the history with ``coach import-comments``.

Chromium comes from Debian (scripts/install-system-deps.sh installs it); it is driven over the
DevTools pipe (tests/chromium_cdp.py). Every request the page makes is recorded: only the file
itself and the blob: URL of the download, nothing over the network.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from coach import paths
from tests.chromium_cdp import Chromium, chromium_path
from tests.test_cli_history import populate, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed"),
]


@pytest.fixture
def history(tmp_path: Path) -> dict[str, Any]:
    return populate(tmp_path)


def _type_into(browser: Chromium, session: str, selector_js: str, text: str) -> None:
    """Focus an element and type into it as a keyboard would (Input.insertText)."""
    browser.evaluate(session, f"(function(e){{e.scrollIntoView();e.focus();}})({selector_js})")
    browser.send("Input.insertText", {"text": text}, session)


def _click(browser: Chromium, session: str, element_id: str) -> None:
    box = browser.evaluate(
        session,
        f"(function(e){{e.scrollIntoView({{block:'center'}});var r=e.getBoundingClientRect();"
        f"return [r.left+r.width/2, r.top+r.height/2];}})(document.getElementById('{element_id}'))",
    )
    x, y = box
    for kind in ("mousePressed", "mouseReleased"):
        browser.send(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            session,
        )


def test_comments_typed_in_the_browser_come_back_into_the_history(
    history: dict[str, Any], tmp_path: Path
) -> None:
    page = tmp_path / "for-mentor.html"
    assert run(["export", "2", "-f", "html", "-o", str(page), "--keep", "all"]).returncode == 0
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    first, second = history["attempts"][2:4]
    browser = Chromium(tmp_path / "profile")
    try:
        browser.send(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True},
        )
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        browser.send("Network.enable", {}, session)
        browser.send("Page.enable", {}, session)
        browser.send("Page.navigate", {"url": page.as_uri()}, session)
        deadline = time.monotonic() + 30
        while browser.evaluate(session, "document.readyState") != "complete":
            assert time.monotonic() < deadline, "the page did not load"
            time.sleep(0.1)
        assert browser.evaluate(session, "document.querySelectorAll('.mentor').length") == 2
        _type_into(
            browser, session, "document.querySelectorAll('.mentor')[0]", "Shorter opening, please."
        )
        _type_into(
            browser, session, "document.querySelectorAll('.mentor')[1]", "Great pivot to the plan."
        )
        _type_into(browser, session, "document.getElementById('overall-note')", "Ready for May.")
        _type_into(browser, session, "document.getElementById('mentor-name')", "Dr. Imani Cole")
        _click(browser, session, "save-comments")
        saved = downloads / "coach-comments-session-2.json"
        deadline = time.monotonic() + 30
        while not saved.exists():
            assert time.monotonic() < deadline, sorted(p.name for p in downloads.iterdir())
            time.sleep(0.1)
        status = browser.evaluate(session, "document.getElementById('save-status').textContent")
        assert status.startswith("Saved coach-comments-session-2.json")
        urls = [
            e["params"]["request"]["url"]
            for e in browser.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
    finally:
        browser.close()
    assert urls and all(u.startswith(("file:", "blob:", "data:")) for u in urls), urls
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["format"] == "medpeds-coach-comments" and data["session_id"] == 2
    assert data["answers"] == {
        str(first): "Shorter opening, please.",
        str(second): "Great pivot to the plan.",
    }
    done = run(["import-comments", str(saved)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Imported 3 comments into session 2"
    with sqlite3.connect(paths.data_dir() / "history.sqlite3") as conn:
        rows = conn.execute(
            "SELECT attempt_id, mentor, body, source FROM mentor_comments ORDER BY id"
        ).fetchall()
    assert rows == [
        (first, "Dr. Imani Cole", "Shorter opening, please.", "html"),
        (second, "Dr. Imani Cole", "Great pivot to the plan.", "html"),
        (None, "Dr. Imani Cole", "Ready for May.", "html"),
    ]
