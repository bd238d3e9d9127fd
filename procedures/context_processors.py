from procedures import selectors


def navigation(request):
    """The navigation bar's counts and whether to show the heads' pages (the standing, shared with the view, and one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith("/admin/"):
        return {}
    standing = selectors.request_standing(request)
    return {
        "nav_counts": selectors.nav_counts(user, standing),
        "is_head": selectors.is_head_anywhere(user, standing),
        "acting_roles": standing.acting_roles,
    }
