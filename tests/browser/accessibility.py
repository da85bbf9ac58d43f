"""What every page of a role's day must hold (issue 11): nothing wider than the viewport, no
serious or critical axe-core violation, and links that lead somewhere (no 403/404)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlsplit

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")

# preload: false — axe would fetch the stylesheets itself and, under the page's CSP, leave the
# page unable to submit its form afterwards (seen in Chromium).
AXE_RUN = """() => axe.run(document, {resultTypes: ['violations'], preload: false}).then(result =>
  result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.help} — ` +
              v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""

# Wider than the viewport: the page, or any element sticking out past its right edge.
OVERFLOW = """() => {
  const width = window.innerWidth;
  const out = [];
  if (document.documentElement.scrollWidth > width) {
    out.push(`page ${document.documentElement.scrollWidth}px > ${width}px`);
  }
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1 && getComputedStyle(el).position !== 'absolute') {
      out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(box.right)}`);
      if (out.length > 5) break;
    }
  }
  return out;
}"""

LINKS = (
    """() => Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"""
)


class DayChecker:
    """Checks each page the role sees and remembers its links to follow at the end."""

    def __init__(self, page, base_url: str, screenshot, prefix: str):
        self.page, self.base, self.screenshot, self.prefix = page, base_url, screenshot, prefix
        self.links: dict[str, str] = {}
        self.pages: list[str] = []
        self.problems: list[str] = []

    def check(self, name: str, *, axe: bool = True) -> None:
        page = self.page
        page.wait_for_load_state("load")
        where = f"{name} ({page.url})"
        self.pages.append(where)
        for problem in page.evaluate(OVERFLOW):
            self.problems.append(f"{where}: 比视口宽 {problem}")
        if axe:
            page.evaluate(AXE)  # through DevTools: the page's CSP is not loosened for it
            for violation in page.evaluate(AXE_RUN):
                self.problems.append(f"{where}: axe {violation}")
        for href in page.evaluate(LINKS):
            url = urljoin(page.url, href)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not url.startswith(self.base):
                continue
            url = url.split("#", 1)[0]
            self.links.setdefault(url, where)
        self.screenshot(f"{self.prefix}-{name}")

    def follow_links(self) -> None:
        """GET every link seen on the role's pages with the role's session."""
        for url, found_on in sorted(self.links.items()):
            response = self.page.request.get(url, max_redirects=5)
            if response.status in (403, 404) or response.status >= 500:
                self.problems.append(f"{found_on}: 链接 {url} → {response.status}")
        self.links.clear()

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)
