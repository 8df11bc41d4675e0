package io.outreach.engine.compliance;

/**
 * One intended contact, as the ComplianceGate sees it: who would be contacted ({@code phone},
 * E.164, null when the lead has none), on which channel, on whose behalf (a campaign, or an agent
 * such as {@code cathy}; either may be null).
 */
public record Contact(
    String tenantId, String campaignId, String agent, Channel channel, String phone) {}
