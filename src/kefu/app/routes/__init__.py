"""Pages, partials, exports and the JSON API; each handler calls one permissions lookup."""
