"""Authentication by username and password; permissions come from the user's roles.

``user.has_perm(perm)`` answers "does the user hold this permission anywhere"; *where* is answered
by ``gongzhi.core.scoping`` (``visible_to`` / ``access_object``).
"""
from django.contrib.auth.backends import ModelBackend

from gongzhi.core.scoping import grants_and_perms


class RoleBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        perms = set(super().get_all_permissions(user_obj))
        for _grant, role_perms in grants_and_perms(user_obj):
            perms |= role_perms
        return perms
