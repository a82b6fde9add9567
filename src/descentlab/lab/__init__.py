"""The labs: experiments built only on the engine's public API (they never reach inside it)."""
