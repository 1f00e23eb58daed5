-- What a running server knows about each plugin's health, written where the CLI and the
-- terminal admin can read it: the circuit breaker's state and the latest runtime error.

ALTER TABLE plugins ADD COLUMN breaker_state TEXT;
ALTER TABLE plugins ADD COLUMN breaker_since TEXT;
ALTER TABLE plugins ADD COLUMN last_error_at TEXT;
