"""Four eyes: risky account actions wait for a second person's approval before they run."""
