"""Answer composition: the deterministic grounded composer (default) and its shared output shapes."""
