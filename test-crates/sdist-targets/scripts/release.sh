#!/bin/sh
# Executable in the source tree; every file of an sdist is 0644, as maturin writes it.
set -eu
cargo build --release
