// Found only when target/libtorch (see .cargo/config.toml) does not hold libtorch.
#error "libtorch is not set up: run scripts/setup-python once (it installs the pinned venv with torch 2.11.0 and links target/libtorch to it), then rerun cargo"
// A fatal error, so that the compiler stops here instead of printing thousands of follow-ups.
#include "libtorch not set up: run scripts/setup-python"
