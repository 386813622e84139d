"""The wallet Kefu serves: a port other domains use, and a built-in double-entry core."""
