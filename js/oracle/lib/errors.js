"use strict";

/** Malformed input or a client failure, located by input line and JSON path. */
class HarnessError extends Error {
  constructor(message, { line, at } = {}) {
    const where = [];
    if (line !== undefined) where.push(`line ${line}`);
    if (at !== undefined && at !== "") where.push(`at ${at}`);
    super(where.length > 0 ? `${where.join(", ")}: ${message}` : message);
    this.name = "HarnessError";
    this.line = line;
    this.at = at;
  }
}

module.exports = { HarnessError };
