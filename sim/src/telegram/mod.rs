//! A fake Telegram Bot API server for tests (being written).
