"""The web page in a real headless Chromium: type an article, submit, check the highlighted sentences."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTICLE = ("MINSK, 14 mars (BelTA) -- La Biélorussie dénonce les sanctions illégales de l'UE. "
           "Pékin appelle Kiev et Moscou à reprendre les pourparlers.\nLes deux pays renforceront leur coopération.")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def live_server(tiny_model, _isolated_home):
    import uvicorn

    from diplotag.service.app import create_app
    from diplotag.settings import Settings

    port = free_port()
    app = create_app(Settings(home=_isolated_home, device="cpu", precision="fp32"), model_path=tiny_model)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make e2e-deps)")
def test_page_highlights_sentences(live_server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(live_server + "/")
        page.fill("#text", ARTICLE)
        page.click("#submit")
        page.wait_for_selector(".sentence", timeout=30_000)
        sentences = page.locator(".sentence")
        assert sentences.count() == 4
        texts = [sentences.nth(i).locator(".text").inner_text() for i in range(4)]
        assert texts == ["MINSK, 14 mars (BelTA) --", "La Biélorussie dénonce les sanctions illégales de l'UE.",
                         "Pékin appelle Kiev et Moscou à reprendre les pourparlers.",
                         "Les deux pays renforceront leur coopération."]
        for i in range(4):
            s = sentences.nth(i)
            assert s.locator(".stance").count() == 1 and s.locator(".rhetoric").count() == 1
            labels = s.get_attribute("data-labels").split(",") if s.get_attribute("data-labels") else []
            assert s.locator(".topic").count() == len(labels)
        assert "Résumé : 4 phrase(s)" in page.locator("#summary h2").inner_text()
        assert page.locator("#topic-summary tr").count() == 5
        page.screenshot(path=str(ARTIFACTS / "web-page.png"), full_page=True)
        page.fill("#text", "   ")
        page.click("#submit")
        page.wait_for_function("document.getElementById('error').textContent.length > 0")
        assert "empty" in page.locator("#error").inner_text()
        browser.close()
    assert (ARTIFACTS / "web-page.png").stat().st_size > 10_000
