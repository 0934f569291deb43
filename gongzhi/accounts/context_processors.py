def scope(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .selectors import user_assignments

    return {"my_assignments": list(user_assignments(user))}
