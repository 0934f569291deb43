from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .roles import ensure_builtin_roles

        post_migrate.connect(ensure_builtin_roles, sender=self)
