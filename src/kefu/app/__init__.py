"""kefu's web app: FastAPI + Jinja2 + htmx over the analysis core.

Layout: settings → db/models (+ Alembic migrations) → security (passwords, sessions,
CSRF, throttling, headers) → permissions (every "who may see what" rule) → services
(the only module that calls the core) → routes → templates. The core never imports
this package.
"""
