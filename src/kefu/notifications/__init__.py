"""Staff notifications: what a person in the console must notice, stored and pushed live."""
