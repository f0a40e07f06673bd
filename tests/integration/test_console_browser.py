"""The web console in a real browser (Playwright driving Debian's chromium; no browser download), on a real
intake (uvicorn), real Redis and real workers against the simulator (issue 22):

a person signs in; a request submitted by an upstream key waits in the approval queue with its identifiers
masked; the person who answers for that upstream key cannot approve it; a form posted without its CSRF
token is refused; a second person approves; the request reaches its certificate and the certificate page
shows ticket, outcome and a valid signature; signed out, every console URL leads to the sign-in page.
Each page passes axe-core with no serious or critical violation. The screenshots of the overview, the
queue and the certificate are written where CONSOLE_SCREENSHOTS_DIR says (docs/ for the README's).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.axe_check import SERIOUS, violations
from tests.support.chromium_required import require_chromium
from tests.support.intake_api import running_api
from tests.support.redis_required import in_ci
from tests.support.stack import running_stack, wait_certificate, wait_final, wait_until

#: Where the screenshots go: the README's docs/ when CONSOLE_SCREENSHOTS_DIR names it
#: (``CONSOLE_SCREENSHOTS_DIR=docs pytest tests/integration/test_console_browser.py`` after a change to the
#: pages), a temporary directory otherwise, so an ordinary test run leaves the checkout as it was.
SCREENSHOTS_ENV = "CONSOLE_SCREENSHOTS_DIR"
TICKET = "DSAR-2207"


@pytest.fixture()
def playwright_chromium():
    chromium = require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "needs playwright (pip install -e '.[dev]')"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def stack(tmp_path, redis_available):
    config = SimConfig(subjects=4, seed=13, gdpr_step_s=0.1, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config) as running:
        yield running


def key(stack, name, *args):
    result = stack.cli("keys", "create", name, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def accessible(page, what):
    found = violations(page)
    print(f"axe {what}: {[(v['id'], v['impact'], v['nodes']) for v in found]}")  # the lesser ones, in the log
    worst = [v for v in found if v["impact"] in SERIOUS]
    assert worst == [], f"{what}: serious accessibility violations {worst}"


def sign_in(browser, url, token):
    # bypass_csp: axe is injected as a script, which the console's CSP would refuse (rightly).
    context = browser.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{url}/console/")
    assert page.url == f"{url}/console/sign-in"
    page.fill("#key", token)
    page.click("button[type=submit]")
    assert page.url == f"{url}/console/"
    return page


@pytest.fixture()
def screenshots(tmp_path):
    chosen = os.environ.get(SCREENSHOTS_ENV)
    directory = Path(chosen).resolve() if chosen else tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def test_two_people_decide_a_request_in_the_console_and_read_its_certificate(stack, playwright_chromium, screenshots):
    browser = playwright_chromium
    store = stack.runtime.store
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    email = subject["emails"][0]
    with running_api(stack.env, stack.tmp / "logs") as url:
        anna = key(stack, "dpo-anna", "--person", "--scope", "requests:read", "--scope", "requests:approve")
        upstream = key(stack, "dsar-tool", "--scope", "requests:submit", "--owner", "dpo-anna")  # a live person key
        ben = key(stack, "dpo-ben", "--person", "--scope", "requests:read", "--scope", "requests:approve",
                  "--scope", "holds:write", "--scope", "webhooks:replay")
        answer = httpx.post(f"{url}/requests", json={"ticket": TICKET, "emails": [email]},
                            headers={"Authorization": f"Bearer {upstream}"}, timeout=30)
        assert answer.status_code == 202, answer.text
        request_id = answer.json()["request_id"]
        wait_until(lambda: store.get(request_id).state is RequestState.AWAITING_APPROVAL, timeout_s=90,
                   message="the request to wait at the approval gate")

        # An upstream (service) key does not open the console.
        page = browser.new_page()
        page.goto(f"{url}/console/sign-in")
        page.fill("#key", upstream)
        page.click("button[type=submit]")
        assert page.locator("#sign-in-failed").is_visible()
        page.close()

        # Anna answers for the upstream key: she sees the request, masked, and cannot approve it.
        page = sign_in(browser, url, anna)
        assert page.locator("#awaiting-count").inner_text() == "1"
        accessible(page, "overview")
        page.screenshot(path=str(screenshots / "console-overview.png"), full_page=True)
        page.click("text=Approvals")
        card = page.locator(f"#req-{TICKET}")
        masked = card.locator(".masked").first.inner_text()
        domain = email.split("@")[1]
        assert re.fullmatch(rf"{re.escape(email[0])}\u2022\u2022\u2022@{re.escape(domain[0])}\u2022\u2022\u2022"
                            rf"\.{re.escape(domain.rsplit('.', 1)[1])}", masked)
        assert email not in page.content()
        assert card.locator("button.approve").is_disabled() and card.locator(".own").is_visible()
        accessible(page, "approval queue")
        page.screenshot(path=str(screenshots / "console-approvals.png"), full_page=True)
        # Enabling the button by hand does not help: the server refuses her (four eyes).
        card.locator("button.approve").evaluate("b => b.disabled = false")
        card.locator("button.approve").click()
        assert page.locator("#refusal").is_visible() and "four eyes" in page.locator("#refusal").inner_text()
        assert store.get(request_id).approval is None
        accessible(page, "refusal page")

        # Ben: a form without its CSRF token is refused and approves nothing...
        page = sign_in(browser, url, ben)
        page.goto(f"{url}/console/approvals")
        card = page.locator(f"#req-{TICKET}")
        card.locator("form:has(button.approve) input[name=csrf]").evaluate("e => e.remove()")
        card.locator("button.approve").click()
        assert "security token" in page.locator("#refusal").inner_text()
        assert store.get(request_id).approval is None
        # ...with it, his approval goes through, bound to the scope the page showed.
        page.goto(f"{url}/console/approvals")
        shown = page.locator(f"#req-{TICKET} input[name=scope]").get_attribute("value")
        page.locator(f"#req-{TICKET} button.approve").click()
        assert page.locator("[role=status]").inner_text().startswith("Approved")
        approval = store.get(request_id).approval
        assert approval is not None and approval.by == "dpo-ben" and approval.scope.digest == shown

        states = wait_final(stack, [request_id], timeout_s=120)
        assert states[request_id] is RequestState.COMPLETED
        wait_certificate(stack, request_id)

        page.goto(f"{url}/console/requests/{TICKET}")
        assert page.locator("#state").inner_text() == "completed"
        assert page.locator("#cert-signature").inner_text().startswith("valid")
        assert "\u2022" not in page.content() and email not in page.content()  # final: its digest only
        accessible(page, "request page")
        page.click("#cert-view")
        assert page.locator("#ticket").inner_text() == TICKET
        assert "completed" in page.locator("#outcome").inner_text()
        assert page.locator("#signature-status").inner_text().startswith("valid, signed by")
        accessible(page, "certificate page")
        page.screenshot(path=str(screenshots / "console-certificate.png"), full_page=True)
        download = page.request.get(f"{url}/console/requests/{TICKET}/certificate.json")
        assert download.ok and download.json()["ticket"] == TICKET

        page.goto(f"{url}/console/holds")
        page.select_option("#hold-kind", "conversation")
        page.fill("#hold-value", "conversation-under-litigation")
        page.fill("#hold-reason", "litigation 2207")
        page.fill("#hold-expires", "2031-01-31")
        page.click("text=Add hold")
        assert page.locator("[role=status]").inner_text() == "Hold added."
        assert "litigation 2207" in page.locator("#holds").inner_text()
        accessible(page, "legal holds")
        page.goto(f"{url}/console/dead-letters")
        accessible(page, "dead letters")

        # Signed out, every console URL leads to the sign-in page.
        page.goto(f"{url}/console/")
        page.click("text=Sign out")
        assert page.url.startswith(f"{url}/console/sign-in")
        accessible(page, "sign-in page")
        for path in ("/console/", "/console/approvals", f"/console/requests/{TICKET}",
                     f"/console/requests/{TICKET}/certificate", f"/console/requests/{TICKET}/certificate.json",
                     "/console/holds", "/console/dead-letters"):
            page.goto(url + path)
            assert page.url == f"{url}/console/sign-in", path
