"""Floor fixtures: a warehouse with binned stock, orders placed through the service, staff by role."""

from __future__ import annotations

import io

import pytest
from rest_framework.test import APIClient

from config.celery import app as celery_app
from tests import factories


@pytest.fixture(autouse=True)
def eager_tasks():
    """Run tasks in-process for these tests even where REDIS_URL points Celery at a broker (CI)."""
    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


@pytest.fixture
def floor(channel, warehouse):
    """Three products in bins (TEE in C-03, MUG in A-01, CAP without a bin) at MAIN."""
    products = {
        "TEE": factories.ProductFactory(sku="TEE", name="Tee", barcode="0001112223334"),
        "MUG": factories.ProductFactory(sku="MUG", name="Mug", barcode="0004445556667"),
        "CAP": factories.ProductFactory(sku="CAP", name="Cap", barcode=""),
    }
    factories.stock(products["TEE"], warehouse, 100, bin="C-03")
    factories.stock(products["MUG"], warehouse, 100, bin="A-01")
    factories.stock(products["CAP"], warehouse, 100)
    return products


def role_api(role: str, username: str | None = None) -> tuple[APIClient, object]:
    from orders.roles import ensure_roles

    ensure_roles()
    from django.contrib.auth.models import Group

    user = factories.UserFactory(username=username or role, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {factories.staff_token(user)}")
    return client, user


def decode_pdf(content: bytes, *, dpi: int = 200) -> list[str]:
    """Render every page of a PDF and read every barcode on it (pypdfium2 + zxing-cpp)."""
    import pypdfium2 as pdfium
    import zxingcpp

    texts = []
    pdf = pdfium.PdfDocument(io.BytesIO(content))
    for page in pdf:
        image = page.render(scale=dpi / 72).to_pil()
        texts += [r.text for r in zxingcpp.read_barcodes(image)]
    return texts


def pdf_page_sizes(content: bytes) -> list[tuple[float, float]]:
    import pypdfium2 as pdfium

    return [tuple(round(v, 1) for v in page.get_size()) for page in pdfium.PdfDocument(io.BytesIO(content))]


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """``with commit(execute=True):`` runs what waits for the commit (the outbox) when the block ends."""
    return django_capture_on_commit_callbacks
