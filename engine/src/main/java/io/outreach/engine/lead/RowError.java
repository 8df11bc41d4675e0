package io.outreach.engine.lead;

/**
 * Why one row of an import was rejected, as reported by {@code GET /v1/imports/{id}}.
 *
 * @param row the 1-based data row (the header is not counted)
 * @param field the CSV column at fault, or null when the row as a whole is wrong
 * @param reason a sentence for the user, e.g. "not a valid email address"
 */
public record RowError(long row, String field, String reason) {}
