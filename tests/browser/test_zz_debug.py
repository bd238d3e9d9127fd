from tests.browser.test_site_pages import world, browse  # noqa
from tests.browser.pages import PHONE, DESK
import json

def test_debug(world, new_context, live_server, artifacts):
    page = browse(new_context, live_server, world.kasubag.username, PHONE)
    for name, path in [("readiness", "/admin/procedures/sop/readiness/"), ("holders", f"/admin/procedures/position/{world.position.pk}/holders/")]:
        page.goto(live_server.url + path)
        page.screenshot(path=artifacts / f"dbg-{name}.png", full_page=True)
        print(name, page.evaluate("""() => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 392).slice(0, 12).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""))
    page = browse(new_context, live_server, world.kasat.username, PHONE)
    page.goto(live_server.url + "/pelaksanaan/")
    print(page.evaluate("""() => { const a = document.querySelector('a[href="/pelaksanaan/2/"]'); const s = getComputedStyle(a); return [s.color, getComputedStyle(a.closest('tr')).backgroundColor, a.closest('td').className, a.closest('tr').className, getComputedStyle(a.closest('td')).backgroundColor, getComputedStyle(a.closest('td')).boxShadow] }"""))
