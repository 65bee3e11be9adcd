// Placeholder; the codec benchmark is written with the decoder.
