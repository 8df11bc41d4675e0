package io.outreach.engine.intake;

/**
 * An upload would take the tenant's stored uploads past its quota ({@code
 * outreach.intake.upload-quota}): nothing of it is kept.
 */
public final class UploadQuotaExceeded extends RuntimeException {
  private final long quotaBytes;

  public UploadQuotaExceeded(long quotaBytes) {
    super("the tenant's stored uploads would exceed its quota of " + quotaBytes + " bytes");
    this.quotaBytes = quotaBytes;
  }

  public long quotaBytes() {
    return quotaBytes;
  }
}
