"""Writing SOPs in sopflow itself: import from Word, and (later) the browser editor."""
