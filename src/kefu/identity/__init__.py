"""Customers, staff users, roles, sessions, one-time codes and verification."""
