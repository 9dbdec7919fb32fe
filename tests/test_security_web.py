"""Staff web security: admin login throttled (django-axes), CSRF on every staff form, no secret in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "right-horse-battery"


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)


def _login(client, password):
    return client.post("/admin/login/?next=/admin/", {"username": "boss", "password": password})


def test_right_password_before_the_limit_logs_in(boss):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong").status_code == 200  # the login form again, with its error
    response = _login(client, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_too_many_wrong_passwords_lock_out_even_the_right_one(boss):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "wrong")
    response = _login(client, PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed logins" in body
    assert "boss" in body
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not locked out by boss's failures.
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("other", "o@example.com", PASSWORD)
    ok = client.post("/admin/login/?next=/admin/", {"username": "other", "password": PASSWORD})
    assert ok.status_code == 302


STAFF_FORMS = [
    "/admin/login/",
    "/admin/inventory/product/add/",
    "/admin/orders/order/manual/",
    "/admin/channels_app/inboundorder/import/",
    "/admin/returns/return/desk/",
    "/admin/returns/return/request/",
    "/floor/pick/",
    "/floor/pack/",
    "/floor/pick/1/scan/",
    "/floor/pack/1/pack/",
    "/floor/pack/1/reset/",
]


@pytest.mark.parametrize("path", STAFF_FORMS)
def test_staff_form_post_without_csrf_token_is_403(boss, path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(boss)
    response = client.post(path, {"username": "boss", "password": PASSWORD})
    assert response.status_code == 403, (path, response.status_code)
    assert b"CSRF" in response.content


def test_staff_form_post_with_csrf_token_passes_the_check(boss):
    """The control for the test above: with the token the same POST reaches the view."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(boss)
    client.get("/admin/orders/order/manual/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/admin/orders/order/manual/", {"csrfmiddlewaretoken": token})
    assert response.status_code != 403


# --- No secret in the repository --------------------------------------------------------------------

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA |ENCRYPTED )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "API key (ck_/pk_/st_/sk_)": re.compile(r"\b(?:ck|pk|st|sk)_(?:live_)?[0-9a-f]{12}_[A-Za-z0-9_-]{30,}"),
    "Stripe-style live key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,}"),
    "Slack token": re.compile(r"\bxox[baprs]-[0-9A-Za-z-]{10,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[0-9A-Za-z]{36}\b"),
    "Django secret key assignment": re.compile(r"SECRET_KEY\s*=\s*['\"](?!django-insecure-)[^'\"]{30,}['\"]"),
}
# (path, pattern name) pairs that are known not to be secrets.
ALLOWLIST: set[tuple[str, str]] = {("tests/test_security_web.py", name) for name in SECRET_PATTERNS} | {
    ("tests/test_settings.py", "Django secret key assignment"),  # a throwaway key for the check --deploy test
}
SKIP_SUFFIXES = (".png", ".jpg", ".gif", ".ico", ".pdf", ".woff", ".woff2", ".lock")


def _repository_files() -> list[str]:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    untracked = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return sorted(set(tracked.split()) | set(untracked.split()))


def test_secret_patterns_catch_what_they_should():
    """Each pattern finds a planted example, so the scan below can fail."""
    samples = {
        "private key": "-----BEGIN RSA PRIVATE KEY-----",
        "AWS access key": "AKIAABCDEFGHIJKLMNOP",
        "API key (ck_/pk_/st_/sk_)": "ck_0123456789ab_" + "x" * 43,
        "Stripe-style live key": "sk_live_" + "a1" * 12,
        "Slack token": "xoxb-1234567890-abc",
        "GitHub token": "ghp_" + "a" * 36,
        "Django secret key assignment": 'SECRET_KEY = "' + "q" * 50 + '"',
    }
    for name, pattern in SECRET_PATTERNS.items():
        assert pattern.search(samples[name]), name


def test_no_secret_in_the_repository():
    files = _repository_files()
    assert "config/settings.py" in files
    found = []
    for relative in files:
        path = ROOT / relative
        if relative.endswith(SKIP_SUFFIXES) or not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_text(errors="ignore")
        for name, pattern in SECRET_PATTERNS.items():
            if (relative, name) not in ALLOWLIST and (match := pattern.search(text)):
                found.append(f"{relative}: {name}: {match.group(0)[:24]}…")
    assert not found, "secrets in the repository:\n" + "\n".join(found)


# --- The admin order-file upload: size and type checked, nothing imported when refused -----------------

HEADER = (
    "external_id,placed_at,customer_email,customer_name,ship_name,ship_line1,ship_line2,ship_city,"
    "ship_region,ship_postal_code,ship_country,sku,quantity,unit_price\n"
)
UPLOAD = "/admin/channels_app/inboundorder/import/"


def _upload(client, name, content, fmt="csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(UPLOAD, {"channel": "web", "format": fmt, "file": SimpleUploadedFile(name, content)})


@pytest.fixture
def upload_client(boss):
    from tests import factories

    factories.ChannelFactory(code="web")
    client = Client()
    client.force_login(boss)
    return client


@pytest.mark.parametrize(
    ("name", "content", "fmt", "message"),
    [
        ("orders.txt", HEADER.encode(), "csv", "takes a .csv file"),
        ("orders.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "csv", "not a UTF-8 text file"),
        ("orders.csv", b"<html><body>hello</body></html>\n", "csv", "no order CSV header"),
        ("orders.csv", b"a,b\x00,c\n", "csv", "binary file"),
        ("orders.csv", b"", "csv", "empty"),
        ("orders.json", b"external_id,sku\n", "shopify", "must start with [ or {"),
        ("orders.csv", b'{"orders": []}', "woocommerce", "takes a .json file"),
    ],
)
def test_upload_of_the_wrong_type_is_refused_and_imports_nothing(upload_client, name, content, fmt, message):
    from channels_app.models import InboundOrder

    response = _upload(upload_client, name, content, fmt)
    assert response.status_code == 200
    assert message in response.content.decode(), response.content.decode()[-2000:]
    assert not InboundOrder.objects.exists()


def test_upload_over_the_size_limit_is_refused(upload_client, settings):
    from channels_app.models import InboundOrder

    row = "E-1,,a@example.com,Ana,Ana,1 Main St,,Springfield,IL,62701,US,TEE,1,10.00\n"
    settings.ORDER_UPLOAD_MAX_BYTES = len(HEADER) + len(row) - 1
    response = _upload(upload_client, "orders.csv", (HEADER + row).encode())
    assert "the limit is" in response.content.decode()
    assert not InboundOrder.objects.exists()
    settings.ORDER_UPLOAD_MAX_BYTES = len(HEADER) + len(row)
    response = _upload(upload_client, "orders.csv", (HEADER + row).encode())
    assert response.status_code == 302, "the same file within the limit is imported"
    assert InboundOrder.objects.count() == 1
