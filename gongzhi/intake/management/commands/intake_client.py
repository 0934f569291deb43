"""`gongzhi intake_client`: issue, list and revoke api_keys of Open311 / API clients.

    gongzhi intake_client add "微信小程序后台" --channel mini_program --county 610921000000
    gongzhi intake_client list
    gongzhi intake_client revoke <id>
The key is printed once; only its SHA-256 is stored.
"""
from django.core.management.base import BaseCommand, CommandError

from gongzhi.cases.choices import Channel
from gongzhi.core.audit import AuditAction, audit_record
from gongzhi.intake.models import IntakeClient
from gongzhi.registry.models import Region


class Command(BaseCommand):
    help = "Issue, list or revoke Open311/API client keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add")
        add.add_argument("name")
        add.add_argument("--channel", default=Channel.OPEN311, choices=Channel.values)
        add.add_argument("--county", default="", help="12-digit division code (default: any county)")
        sub.add_parser("list")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("id", type=int)

    def handle(self, *args, action, **options):
        if action == "add":
            county = None
            if options["county"]:
                county = Region.objects.filter(level=1, code=options["county"]).first()
                if county is None:
                    raise CommandError(f"no county {options['county']}")
            client, raw = IntakeClient.issue(name=options["name"], channel=options["channel"], county=county)
            audit_record(actor=None, action=AuditAction.CREATE, obj=client, note="发放 api_key",
                         after={"name": client.name, "channel": client.channel, "key_prefix": client.key_prefix})
            self.stdout.write(f"client {client.pk}: {client.name}\napi_key (shown once): {raw}")
        elif action == "list":
            for client in IntakeClient.objects.all():
                self.stdout.write(f"{client.pk}\t{client.name}\t{client.channel}\t{client.key_prefix}…\t"
                                  f"{'active' if client.active else 'revoked'}")
        else:
            updated = IntakeClient.objects.filter(pk=options["id"]).update(active=False)
            if not updated:
                raise CommandError("no such client")
            audit_record(actor=None, action=AuditAction.UPDATE, object_type="intake.intakeclient",
                         object_id=str(options["id"]), note="吊销 api_key")
            self.stdout.write("revoked")
