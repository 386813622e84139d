from playwright.sync_api import Page, expect
from tests.factories import STAFF_PASSWORD
from tests.web.conftest import LiveServer, screenshot

from kefu.identity import service as identity_service


def _seed(server: LiveServer) -> None:
    with server.sessions() as db:
        identity_service.create_staff(
            db,
            username="lina",
            password=STAFF_PASSWORD,
            role="supervisor",
            display_name="主管 李娜",
        )
        identity_service.create_customer(
            db, wallet_account_id="W100200300", name="王小明", phone="13800000001"
        )
        db.commit()


def test_staff_signs_in_finds_a_customer_and_signs_out(live_server: LiveServer, page: Page) -> None:
    _seed(live_server)
    page.goto(f"{live_server.url}/console")
    expect(page).to_have_url(f"{live_server.url}/console/login")
    expect(page.get_by_role("heading", name="坐席工作台登录")).to_be_visible()
    screenshot(page, "console-login-zh")

    page.get_by_label("用户名").fill("lina")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")

    page.get_by_label("用户名").fill("lina")
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_label("密码").press("Enter")  # keyboard use, not only the mouse
    expect(page.get_by_role("heading", name="坐席工作台")).to_be_visible()
    expect(page.get_by_text("主管 李娜")).to_be_visible()

    page.get_by_label("查找客户").fill("王小明")
    page.get_by_role("button", name="查找客户").click()
    row = page.get_by_role("row", name="王小明")
    expect(row).to_contain_text("138****0001")
    expect(page.locator("body")).not_to_contain_text("13800000001")
    screenshot(page, "console-home-zh")

    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(f"{live_server.url}/console/login")


def test_console_login_in_english(live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/console/login?lang=en")
    expect(page.get_by_role("heading", name="Agent console sign-in")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_visible()
    screenshot(page, "console-login-en")
