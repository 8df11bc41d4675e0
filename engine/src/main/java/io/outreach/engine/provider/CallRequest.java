package io.outreach.engine.provider;

/**
 * One outbound call: from the tenant's number to the person, speaking {@code say} (the rendered
 * message). {@code statusCallbackUrl} is where the provider posts the call's progress ({@code
 * initiated}, {@code ringing}, {@code answered}, {@code completed}); {@code gatherUrl} is where it
 * posts the keys pressed or the words spoken after the message (the keypad or spoken opt-out), null
 * for none. {@code idempotencyKey} is the call's key ({@code campaignId:recipient:step}).
 */
public record CallRequest(
    String tenantId,
    String from,
    String to,
    String say,
    String idempotencyKey,
    String statusCallbackUrl,
    String gatherUrl) {}
