"""Signals inventory sends upward (it imports no other app, DESIGN.md "Layers").

``stock_arrived`` is sent after commit whenever ``on_hand`` grew at a location
(receipt, adjustment, return restock, transfer in). ``orders`` listens and
allocates waiting backorders. Arguments: ``product_ids`` (list of int),
``location_id`` (int).
"""

from django.dispatch import Signal

stock_arrived = Signal()
