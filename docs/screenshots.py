"""Renders pages of the built site to PNGs: `python docs/screenshots.py`.

`make docs-screenshots` builds the site, then serves `build/site/` over HTTP
on a free local port (the search index does not load from `file://`) and
renders the landing page, a guide, the Chinese page and an API reference
page with the distribution's headless Chromium (`apt-get install
chromium-headless-shell`, or `chromium`) into `runs/screenshots/`.
"""

import argparse
import functools
import http.server
import pathlib
import shutil
import subprocess
import sys
import threading

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = {
    "landing": "",
    "guide-recurrent-layers": "layers/",
    "chinese": "zh/",
    "reference-layers": "reference/layers/",
}
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser")


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no line per request
        pass


def browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit(
        "No headless Chromium found (looked for "
        + ", ".join(BROWSERS)
        + "). Install it with: apt-get install -y chromium-headless-shell"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default=str(ROOT / "build" / "site"))
    parser.add_argument("--out", default=str(ROOT / "runs" / "screenshots"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1600)
    args = parser.parse_args(argv)
    site = pathlib.Path(args.site)
    if not (site / "index.html").exists():
        raise SystemExit(f"No built site in {site}: run `make docs` first.")
    chromium = browser()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for name, page in PAGES.items():
            png = out / f"{name}.png"
            subprocess.run(
                [
                    chromium,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    f"--window-size={args.width},{args.height}",
                    f"--screenshot={png}",
                    f"http://127.0.0.1:{server.server_port}/{page}",
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            print(png)
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
