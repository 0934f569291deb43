"""``gongzhi demo_otp``: the demo logins' current one-time code (second factor).

The demo enrols one published authenticator secret (``gongzhi.demo.logins.DEMO_TOTP_SECRET``) on
the demo logins that need a second factor; this prints its code now, for whoever has no
authenticator app at hand. It reads nothing from the database and knows no other secret.
"""
from django.core.management.base import BaseCommand

from gongzhi.demo.logins import DEMO_TOTP_SECRET, demo_totp_code


class Command(BaseCommand):
    help = "Print the demo logins' current second-factor code (demo secret only)."

    def handle(self, *args, **options):
        code, seconds = demo_totp_code()
        self.stdout.write(f"{code}  (演示验证码，{seconds} 秒内有效 · demo code, valid {seconds} s; secret {DEMO_TOTP_SECRET})")
