"""Access control: what a route needs (declared), what a caller holds (computed), one check."""
