"""Headless Chromium through Selenium and the system chromedriver: the browser the tests, the speed
benchmark and the README screenshots open the pages in.

Debian's ``chromium`` and ``chromium-driver`` packages provide both programs (``make browser``, which
``make test`` runs, adds them when missing). The flags turn off Chromium's own background connections
(updates, sync, field trials): on a machine without a network they are refused and logged as errors,
which would hide the page's own.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from factattr.errors import FactattrError

CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver", "chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-field-trial-config",
         "--hide-scrollbars")


class BrowserMissing(FactattrError, OSError):
    """Chromium or chromedriver is not installed."""


def _find(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def programs() -> tuple[str, str]:
    """(chromium, chromedriver) paths. Raises BrowserMissing naming the packages to install."""
    chromium, driver = _find(CHROMIUM), _find(CHROMEDRIVER)
    if not (chromium and driver):
        missing = " and ".join(n for n, p in (("chromium", chromium), ("chromedriver", driver)) if not p)
        raise BrowserMissing(f"{missing} not found; install Debian's chromium and chromium-driver packages "
                             "(make browser does: apt-get install -y chromium chromium-driver)")
    return chromium, driver


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator:
    """A headless Chromium WebDriver with a fresh profile, its browser log kept; closed on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = programs()
    profile = tempfile.mkdtemp(prefix="factattr-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS + (f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, path: str | Path, timeout: float = 60.0) -> float:
    """Load a local HTML file, wait until its script has run (``data-ready`` on the root element, which
    the view's script sets last; other pages: the load event) and a frame has been painted after it.
    Returns the seconds from navigation start to that frame, as the browser's clock measured them."""
    driver.get(Path(path).resolve().as_uri())
    deadline = time.monotonic() + timeout
    script = ("return document.readyState === 'complete' && (!document.getElementById('fa-settings') || "
              "document.documentElement.getAttribute('data-ready') === '1')")
    while not driver.execute_script(script):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path}: not ready after {timeout} s")
        time.sleep(0.02)
    driver.set_script_timeout(timeout)
    return driver.execute_async_script(
        "var done = arguments[arguments.length - 1]; document.body.getBoundingClientRect();"
        "requestAnimationFrame(function () { requestAnimationFrame(function () { done(performance.now() / 1000); }); });")


def severe_logs(driver) -> list[dict]:
    """The browser console's errors (level SEVERE) since the last call."""
    return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
