"""One router per file; `api.app` includes them all."""
