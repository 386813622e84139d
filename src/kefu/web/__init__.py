"""Server-rendered pages for customers, agents and admins."""
