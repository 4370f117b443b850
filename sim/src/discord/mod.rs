//! A fake Discord REST API and gateway for tests (being written).
