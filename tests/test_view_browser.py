"""The view and report.html in headless Chromium (Selenium with the system chromedriver): they load with
no console errors, the DOM holds every sentence with its labels and offsets, filters and pages hide what
they should, keyboard focus shows the probabilities, and each page leaves a screenshot in tmp_path.

``make test`` installs Chromium (make browser) and requires it (FACTATTR_REQUIRE_BROWSER=1); run alone
without Chromium, these tests are skipped."""

import os

import pytest

from factattr.view import read_articles, read_contested, write_view
from factattr.view.browser import BrowserMissing, chromium, open_page, programs, severe_logs

from .view_fixtures import scored_articles, write_contested, write_scored

pytest.importorskip("selenium")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402


@pytest.fixture(scope="module")
def driver():
    try:
        programs()
    except BrowserMissing as exc:
        if os.environ.get("FACTATTR_REQUIRE_BROWSER"):
            raise
        pytest.skip(str(exc))
    with chromium(1200, 900) as browser:
        yield browser


@pytest.fixture(scope="module")
def view_page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("view")
    articles = read_articles([write_scored(folder / "scored.jsonl")])
    contested = read_contested(write_contested(folder / "contested.jsonl"))
    return write_view(folder / "view.html", articles, contested, title="Browser test", page_size=2)


def _shown(driver, element) -> bool:
    """Rendered (not display:none, not in a hidden article); unlike is_displayed, true for a sentence the
    browser has not painted yet because it is off screen (content-visibility: auto)."""
    return driver.execute_script("return arguments[0].checkVisibility()", element)


def _text(driver, element) -> str:
    return driver.execute_script("return arguments[0].textContent", element)


def test_view_loads_with_every_sentence_and_no_console_errors(driver, view_page, tmp_path):
    assert open_page(driver, view_page) > 0
    assert severe_logs(driver) == []
    elements = driver.find_elements(By.CSS_SELECTOR, "article.art .s")
    expected = [(a, s) for a in scored_articles() for s in a["sentences"]]
    assert len(elements) == len(expected)
    for element, (article, s) in zip(elements, expected):
        data = driver.execute_script("return Object.assign({}, arguments[0].dataset)", element)
        assert (int(data["start"]), int(data["end"]), data["h0"], data["h1"]) == \
            (s["start"], s["end"], s["source"], s["claim_type"])
        assert _text(driver, element.find_element(By.CSS_SELECTOR, ".t")) == article["text"][s["start"]:s["end"]]
        badges = [_text(driver, b) for b in element.find_elements(By.CSS_SELECTOR, ".b")]
        assert badges[:2] == [s["source"].replace("_", " "), s["claim_type"].replace("_", " ")]
    speaker = driver.find_element(By.CSS_SELECTOR, "#a0 .mk-speaker")
    assert _text(driver, speaker) == "The army"
    assert "underline" in speaker.value_of_css_property("text-decoration")
    for chart in ("heatmap", "timeline", "speakers"):
        assert driver.find_element(By.CSS_SELECTOR, f"#chart-{chart} svg").size["height"] > 100
    driver.save_screenshot(str(tmp_path / "view.png"))
    assert (tmp_path / "view.png").stat().st_size > 10_000


def test_pages_and_filters_hide_what_they_should(driver, view_page):
    open_page(driver, view_page)
    articles = driver.find_elements(By.CSS_SELECTOR, "article.art")
    assert [a.is_displayed() for a in articles] == [True, True, False]  # two articles a page
    driver.find_element(By.ID, "next").click()
    assert [a.is_displayed() for a in articles] == [False, False, True]
    driver.find_element(By.CSS_SELECTOR, "input[name=h0][value=other]").click()  # the source filter
    status = driver.find_element(By.ID, "status").text
    assert status == "Showing 6 of 8 sentences in 3 of 3 articles."
    for element in driver.find_elements(By.CSS_SELECTOR, "article.art .s"):
        driver.execute_script("arguments[0].closest('article').hidden = false", element)  # look past the pages
        assert _shown(driver, element) == (element.get_attribute("data-h0") != "other")
    driver.find_element(By.ID, "show-all").click()
    driver.find_element(By.ID, "low-only").click()
    shown = [e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, ".s") if _shown(driver, e)]
    assert shown == ["s0-1", "s1-1"]  # the two sentences under 0.6, on one page of the two articles holding them
    assert driver.find_element(By.ID, "status").text == "Showing 2 of 8 sentences in 2 of 3 articles."
    assert severe_logs(driver) == []


def test_keyboard_focus_shows_probabilities(driver, view_page, tmp_path):
    open_page(driver, view_page)
    driver.execute_script("document.getElementById('show-all').focus()")
    for _ in range(6):  # Tab from the filters' last control passes the pager to the first sentence
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if "s" in driver.switch_to.active_element.get_attribute("class").split():
            break
    focused = driver.switch_to.active_element
    assert focused.get_attribute("id") == "s0-0"
    tip = driver.find_element(By.ID, "tip")
    assert tip.is_displayed() and focused.get_attribute("aria-describedby") == "tip"
    assert "syrian army 0.930" in tip.text and "speaker: The army" in tip.text and "cue: said" in tip.text
    assert driver.find_element(By.CSS_SELECTOR, "#a0 .mk-speaker").get_attribute("class").endswith(" on")
    focused.send_keys(Keys.ARROW_DOWN)
    assert driver.switch_to.active_element.get_attribute("id") == "s0-1"
    assert "low: under 0.6" in tip.text and "syrian army 0.550" in tip.text
    driver.save_screenshot(str(tmp_path / "view-focus.png"))
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert not tip.is_displayed()


def test_contested_link_opens_its_article(driver, view_page):
    open_page(driver, view_page)
    driver.find_element(By.CSS_SELECTOR, "input[name=h1][value=force_strength]").click()  # hides article 1's claim
    driver.find_element(By.CSS_SELECTOR, "#contested a[data-goto]").click()
    article = driver.find_element(By.ID, "a1")
    assert _shown(driver, article) and _shown(driver, driver.find_element(By.ID, "s1-2"))
    assert driver.switch_to.active_element.get_attribute("id") == "s1-2"  # the claim itself, focused
    assert severe_logs(driver) == []


def test_report_html_loads_with_pictures_and_errors(driver, tiny_checkpoint, corpus_file, tmp_path):
    from factattr.eval.evaluate import run_evaluation

    report = run_evaluation(tiny_checkpoint, data=[str(corpus_file)], out=tmp_path / "r", baselines=False,
                            progress=False)
    open_page(driver, tmp_path / "r" / "report.html")
    assert severe_logs(driver) == []
    images = driver.find_elements(By.CSS_SELECTOR, "img.pic")
    assert len(images) == 4 and all(driver.execute_script("return arguments[0].naturalWidth", i) > 100 for i in images)
    errors = driver.find_elements(By.CSS_SELECTOR, "article.err")
    assert len(errors) == len(report.results["errors"])
    if errors:
        first = report.results["errors"][0]
        assert errors[0].find_element(By.CSS_SELECTOR, "mark.hit").text == " ".join(first["text"].split())
    driver.save_screenshot(str(tmp_path / "report.png"))
    assert (tmp_path / "report.png").stat().st_size > 10_000
