from django.apps import AppConfig


def restore_channel_actors(sender=None, **kwargs):
    """Put the public-channel actors back (audited) when they are missing: migration 0003 creates
    them; a test database flushed between tests loses them, and migrate runs this afterwards."""
    from django.apps import apps as global_apps

    from .channel_actors import ensure_channel_actors

    ensure_channel_actors(global_apps, by="post_migrate")


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
        post_migrate.connect(restore_channel_actors, sender=self, dispatch_uid="gongzhi.accounts.channel_actors")
