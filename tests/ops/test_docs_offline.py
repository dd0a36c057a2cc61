"""/docs and /redoc render without the network: every script and stylesheet they load is served here."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from httpx import AsyncClient


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))
        if tag == "link" and found.get("href"):
            self.urls.append(str(found["href"]))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_load_only_local_assets(client: AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    parser = _Assets()
    parser.feed(response.text)
    scripts = [url for url in parser.urls if url.endswith(".js")]
    assert scripts, "the page starts its bundle"
    for url in parser.urls:
        assert not urlsplit(url).netloc, f"{page} loads {url} from another host"
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url
    assert "fonts.googleapis.com" not in response.text
