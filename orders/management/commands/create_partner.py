from django.core.management.base import BaseCommand, CommandError

from inventory.errors import DomainError
from inventory.models import Location
from orders.partners import partner_key_create, partner_save


class Command(BaseCommand):
    help = "Set up the 3PL or dropship partner of a location and print a new partner key (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("location", help="Code of a third_party or dropship location.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--email", default="", help="Dropship: purchase orders are e-mailed here.")
        parser.add_argument("--endpoint", default="", help="3PL: shipment requests are POSTed here as JSON.")
        parser.add_argument("--endpoint-token", default="")

    def handle(self, *args, **options):
        location = Location.objects.filter(code=options["location"]).first()
        if location is None:
            raise CommandError(f"No location {options['location']!r}.")
        try:
            partner = partner_save(
                location=location,
                name=options["name"],
                email=options["email"],
                endpoint_url=options["endpoint"],
                endpoint_token=options["endpoint_token"],
            )
        except DomainError as exc:
            raise CommandError(exc.detail)
        _, raw = partner_key_create(partner=partner)
        self.stdout.write(f"Partner {partner.name} for {location.code}. Key (shown once):")
        self.stdout.write(raw)
