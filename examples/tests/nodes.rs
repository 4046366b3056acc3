//! Server processes sharing a Redis.
