from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from django.db.models.signals import post_migrate

        from gongzhi.core.scoping import register_grant_loader

        from .roles import ensure_builtin_roles
        from .selectors import grants_with_perms

        post_migrate.connect(ensure_builtin_roles, sender=self)
        # core.scoping asks accounts for a user's grants without importing it (core is the
        # lowest layer).
        register_grant_loader(grants_with_perms)
