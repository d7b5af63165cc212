"""Files in and out: text decoding, number parsing, reading every supported format, exports."""
