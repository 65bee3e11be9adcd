// Placeholder; the fuzz entry point is written with the decoder.
