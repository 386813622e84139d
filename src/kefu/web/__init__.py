"""The pages' shared parts and their shell. Shared: templating, form plumbing
(``forms``) and the help center's one-time-code step (``code_step``), which every
domain's pages use. Shell: the console home, the help center's front pages, the pages
that show several domains at once (the agent's customer view, the audit rows they
share), the settings page, the demo-only pages, and ``routes``, which mounts them all.
A page of one domain's own lives in that domain (``cases.tracking_pages``,
``identity.signin_pages``, ``kb.pages``…)."""
