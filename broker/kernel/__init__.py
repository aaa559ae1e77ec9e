"""The shared kernel of the broker's contexts: store, validation, errors, clock, settings."""
