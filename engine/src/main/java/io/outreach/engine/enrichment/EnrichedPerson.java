package io.outreach.engine.enrichment;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.outreach.engine.CborSerializable;

/**
 * A person the provider matched, as far as a lead can take it: {@code state} is a US state's
 * 2-letter code (null outside the US or when unknown), {@code email} lower-case. Stored in the
 * tenant's enrichment cache, and used to fill the lead's empty fields.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EnrichedPerson(
    String providerId,
    String firstName,
    String lastName,
    String email,
    String emailStatus,
    String title,
    String organizationName,
    String organizationDomain,
    String city,
    String state,
    String country,
    String linkedinUrl)
    implements CborSerializable {}
