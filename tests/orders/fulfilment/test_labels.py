"""Labels and paperwork: real PDFs whose barcodes a reader decodes."""

from __future__ import annotations

import pypdfium2 as pdfium

from orders import documents, fulfilment
from orders.floor_selectors import shipment_for_documents
from tests import factories

from .conftest import decode_pdf, pdf_page_sizes


def _text(content: bytes) -> str:
    import io

    pdf = pdfium.PdfDocument(io.BytesIO(content))
    return "\n".join(page.get_textpage().get_text_range() for page in pdf)


def test_label_is_4x6_inches_with_addresses_service_and_a_tracking_barcode(channel, floor, warehouse):
    warehouse.name, warehouse.address_line1, warehouse.city = "Main DC", "9 Dock Rd", "Joliet"
    warehouse.save()
    order = factories.place(channel, "LB-1", lines=[("TEE", 1)], shipping_method="express")
    shipment = order.shipments.get()
    fulfilment.shipment_ship(shipment=shipment, carrier="fedex", tracking_number="794698524930", actor="test")
    content = documents.label_pdf(shipment_for_documents(pk=shipment.pk))
    assert content.startswith(b"%PDF")
    assert pdf_page_sizes(content) == [(288.0, 432.0)]  # 4 x 6 in at 72 pt/in
    assert decode_pdf(content) == ["794698524930"]
    text = _text(content)
    for expected in ("Ana", "1 Main St", "Springfield", "Main DC", "9 Dock Rd", shipment.number, "FEDEX", "EXPRESS"):
        assert expected in text, expected


def test_label_before_shipping_carries_the_shipment_number(staff_api, channel, floor):
    order = factories.place(channel, "LB-2", lines=[("TEE", 1)])
    shipment = order.shipments.get()
    response = staff_api.get(f"/api/v1/shipments/{shipment.pk}/label.pdf")
    assert response.status_code == 200
    assert decode_pdf(response.content) == [shipment.number]


def test_packing_slip_lists_the_lines_and_its_barcode_opens_the_shipment(staff_api, channel, floor):
    order = factories.place(channel, "LB-3", lines=[("TEE", 2), ("MUG", 1)])
    shipment = order.shipments.get()
    response = staff_api.get(f"/api/v1/shipments/{shipment.pk}/packing-slip.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert shipment.number in decode_pdf(response.content)
    text = _text(response.content)
    assert "TEE" in text
    assert "MUG" in text
    assert order.number in text


def test_label_of_an_unknown_shipment_is_404(staff_api, floor):
    assert staff_api.get("/api/v1/shipments/999999/label.pdf").status_code == 404
