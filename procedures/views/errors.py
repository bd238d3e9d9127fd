"""Error pages in the site's style and language."""
