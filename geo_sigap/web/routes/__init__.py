"""HTTP routes: thin — parse input, call one use case, shape the output."""
