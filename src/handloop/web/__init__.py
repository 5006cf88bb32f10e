"""The worker portal: server-rendered pages, static assets and portal JSON endpoints."""
