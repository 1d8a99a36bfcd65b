"""Runs: the state machine, the run store, the queue that carries runs to workers, the event bus."""
