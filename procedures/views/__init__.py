"""Views of the browser app, by area: work (inbox, tasks, runs), heads, runs list, catalogue, errors."""
