from tests import factories


def test_place_order_through_api_reserves_stock(channel_api, warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M", name="Tee red M")
    factories.stock(product, warehouse, 5, bin="A-01")
    response = channel_api.post("/api/v1/orders/", factories.order_payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "received"
    assert body["number"] == f"SO-{body['id']:06d}"
    assert body["lines"][0]["quantity_reserved"] == 2
    assert body["shipments"][0]["location"] == "MAIN"
    assert body["shipments"][0]["lines"] == [{"sku": "TEE-RED-M", "quantity": 2}]
    assert body["totals"] == {"subtotal": "39.80", "shipping": "0.00", "tax": "0.00", "total": "39.80"}


def test_ship_and_deliver_moves_stock_and_order(channel, warehouse):
    from inventory.models import StockItem
    from orders import fulfilment

    product = factories.ProductFactory(sku="TEE-RED-M")
    factories.stock(product, warehouse, 5)
    order = factories.place(channel, lines=[("TEE-RED-M", 2)])
    shipment = order.shipments.get()
    fulfilment.shipment_ship(shipment=shipment, carrier="manual", tracking_number="1Z999", actor="test")
    item = StockItem.objects.get(product=product, location=warehouse)
    assert (item.on_hand, item.reserved) == (3, 0)
    order.refresh_from_db()
    assert order.status == "shipped"
    assert order.lines.get().quantity_shipped == 2
    fulfilment.shipment_deliver(shipment=shipment, actor="test")
    order.refresh_from_db()
    assert order.status == "delivered"
    assert order.delivered_at is not None
