"""The HTTP surface: the Starlette app, settings, and the `scholargraph` command."""
