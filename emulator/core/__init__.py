"""The provider-agnostic core: clock, scheduler, store, journal, webhook dispatcher, seeded RNG."""
