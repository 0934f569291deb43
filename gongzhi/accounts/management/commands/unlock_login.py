"""``gongzhi unlock_login --by ADMIN [--username U] [--ip A]``: lift a login lockout, audited.

The administrator running it names themself with ``--by`` (the audit row names them, and their
permission is checked as on the page).
"""
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from gongzhi.accounts.services import login_unlock


class Command(BaseCommand):
    help = "Lift a login lockout (django-axes failures) for a username and/or a client address, audited."

    def add_arguments(self, parser):
        parser.add_argument("--by", required=True, help="username of the administrator doing this")
        parser.add_argument("--username", default="")
        parser.add_argument("--ip", default="")

    def handle(self, *args, **options):
        actor = get_user_model().objects.filter(username=options["by"], is_active=True).first()
        if actor is None:
            raise CommandError(f"no active user {options['by']!r}")
        try:
            count = login_unlock(actor=actor, username=options["username"], ip_address=options["ip"])
        except PermissionDenied:
            raise CommandError(f"{actor.username} may not unlock logins") from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"unlocked: {count} failure record(s) removed")
